"""The issued ticket (also when the printer failed), and the short-lived message screens."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from kiosk import view_style as st
from kiosk.state import KioskState, PrintPhase, Screen
from kiosk.view_home import button, centred, label, scale_box
from kiosk.view_text import Texts
from kiosk.view_widgets import QrWidget


class TicketPage(QWidget):
    """The number, big, with everything printed on the paper ticket and its QR code.

    Portrait: one column. Landscape: the number on the left, the queue facts and the QR
    code on the right, so it fits 1080 pixels of height.
    """

    def __init__(self, state: KioskState, texts: Texts) -> None:
        super().__init__()
        self.state, self.t = state, texts
        self.unit, self.portrait = 1.0, True
        self.status = label("statusOk")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card = QFrame()
        self.card.setObjectName("card")
        self.caption = label("numberCaption", wrap=False)
        self.number = QLabel()
        self.number.setObjectName("ticketNumber")
        self.service = label("ticketService")
        self.priority = label("ticketPriority", wrap=False)
        self.appointment = label("ticketAppointment", wrap=False)
        self.rows: list[tuple[QLabel, QLabel]] = [
            (label("rowLabel", wrap=False), label("rowValue", wrap=False)) for _ in range(3)]
        self.qr = QrWidget()
        self.qr_caption = label("qrCaption")
        self.keep = label("keepTicket")
        self.done = button("primary", on_click=state.acknowledge)
        self.countdown = label("countdown", wrap=False)
        for widget in (self.caption, self.number, self.service, self.qr_caption, self.keep, self.countdown):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.facts = QWidget()  # the queue facts: under the number, or beside it with the QR
        grid = QGridLayout(self.facts)
        grid.setContentsMargins(0, 0, 0, 0)
        self.grid = grid
        for i, (name, value) in enumerate(self.rows):
            grid.addWidget(name, i, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(value, i, 1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        badge_row = centred(self.priority)
        appointment_row = centred(self.appointment)

        self.info = QVBoxLayout()
        self.info.addStretch(1)
        for widget in (self.caption, self.number, self.service):
            self.info.addWidget(widget)
        self.info.addLayout(appointment_row)
        self.info.addLayout(badge_row)
        self.info.addStretch(1)
        self.side = QVBoxLayout()
        self.side.addStretch(1)
        self.side.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)
        self.side.addWidget(self.qr_caption)
        self.side.addStretch(1)
        self.body = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.body.addLayout(self.info, 3)
        self.body.addLayout(self.side, 2)
        card_box = QVBoxLayout(self.card)
        card_box.addLayout(self.body, 1)
        card_box.addWidget(self.keep)
        self.card_box = card_box

        self.layout_box = QVBoxLayout(self)
        self.layout_box.addWidget(self.status)
        self.layout_box.addWidget(self.card, 1)
        self.layout_box.addLayout(centred(self.done))
        self.layout_box.addWidget(self.countdown)

    def set_geometry_mode(self, unit: float, portrait: bool) -> None:
        self.unit, self.portrait = unit, portrait
        scale_box(self.layout_box, unit, side=36, top=22, bottom=14, spacing=16)
        pad_x, pad_y = round(32 * unit), round(20 * unit)
        self.card_box.setContentsMargins(pad_x, pad_y, pad_x, pad_y)
        self.info.setSpacing(round(6 * unit))
        self.side.setSpacing(round(12 * unit))
        direction = QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight
        self.body.setDirection(direction)
        self.body.setSpacing(round(24 * unit))
        # The facts sit under the number (portrait) or above the QR code (landscape).
        for box in (self.info, self.side):
            box.removeWidget(self.facts)
        if portrait:
            self.info.insertWidget(self.info.count() - 1, self.facts, 0, Qt.AlignmentFlag.AlignHCenter)
        else:
            self.side.insertWidget(1, self.facts, 0, Qt.AlignmentFlag.AlignHCenter)
        self.grid.setHorizontalSpacing(round(18 * unit))
        self.grid.setVerticalSpacing(round(6 * unit))
        self.done.setMinimumWidth(round(460 * unit))
        self.render()

    def render(self) -> None:
        issued, t, u = self.state.issued, self.t, self.unit
        if issued is None:
            return
        problem = self.state.screen == Screen.PRINTER_PROBLEM
        if problem:
            self.status.setObjectName("statusProblem")
            detail_px = round(28 * u)
            self.status.setText(f"{t('printer_problem')}<br><span style='font-size:{detail_px}px; "
                                f"font-weight:600'>{t('printer_problem_detail')}</span>")
        elif issued.phase == PrintPhase.PRINTING:
            self.status.setObjectName("statusInfo")
            self.status.setText(t("printing"))
        elif issued.phase == PrintPhase.DISABLED:
            self.status.setObjectName("statusInfo")
            self.status.setText(t("no_printer"))
        else:
            self.status.setObjectName("statusOk")
            self.status.setText(t("printed"))
        self.status.style().polish(self.status)
        self.caption.setText(t("your_number"))
        self.number.setFont(st.font((250 if self.portrait else 230) * u, 800))
        self.number.setStyleSheet(f"color: {st.NAVY};")
        self.number.setText(issued.ticket.number)
        self.service.setText(t.service_name(issued.service, issued.ticket.service))
        appointment = t.appointment(issued.appointment_at, issued.late)
        self.appointment.setVisible(bool(appointment))
        self.appointment.setText(appointment)
        self.appointment.setObjectName("ticketLate" if issued.late else "ticketAppointment")
        self.appointment.style().polish(self.appointment)
        self.priority.setVisible(issued.priority is not None)
        self.priority.setText(t("priority_chosen", name=t.option_name(issued.priority)))
        values = [(t("ahead"), str(issued.ahead)),
                  (t("wait"), t.wait(issued.estimated_wait_minutes)),
                  (t("counters"), t.counters(issued.service))]
        for (name, value), (name_label, value_label) in zip(values, self.rows, strict=True):
            name_label.setText(f"{name}:")
            value_label.setText(value)
            name_label.setVisible(bool(value))
            value_label.setVisible(bool(value))
        self.qr.set_data(issued.url, round((330 if self.portrait else 300) * u))
        self.qr_caption.setText(t("qr_caption"))
        self.keep.setText(t("keep_number") if problem or issued.phase == PrintPhase.DISABLED
                          else t("keep_ticket"))
        self.done.setText(t("printer_problem_ok") if problem else t("done"))
        self.update_countdown()

    def update_countdown(self) -> None:
        left = self.state.seconds_left()
        self.countdown.setText(self.t("auto_return", n=left) if left is not None else "")


class MessagePage(QWidget):
    """One centred message: connecting, issuing, a refusal (with OK)."""

    def __init__(self, state: KioskState, texts: Texts) -> None:
        super().__init__()
        self.state, self.t = state, texts
        self.title = label("bigMessage")
        self.text = label("messageText")
        self.ok = button("primary", on_click=state.acknowledge)
        self.countdown = label("countdown", wrap=False)
        for widget in (self.title, self.text, self.countdown):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.layout_box = QVBoxLayout(self)
        self.layout_box.addStretch(2)
        self.layout_box.addWidget(self.title)
        self.layout_box.addWidget(self.text)
        self.layout_box.addStretch(1)
        self.layout_box.addLayout(centred(self.ok))
        self.layout_box.addWidget(self.countdown)
        self.layout_box.addStretch(2)

    def set_geometry_mode(self, unit: float, portrait: bool) -> None:
        scale_box(self.layout_box, unit, side=60 if portrait else 220, top=40, bottom=40, spacing=28)
        self.ok.setMinimumWidth(round(420 * unit))

    def render(self) -> None:
        state, t = self.state, self.t
        screen = state.screen
        self.title.setObjectName("bigMessage")
        self.ok.setVisible(screen == Screen.MESSAGE)
        self.ok.setText(t("ok"))
        if screen == Screen.CONNECTING:
            rejected = state.connection == "rejected"
            self.title.setText(t("rejected") if rejected else t("connecting"))
            self.text.setText(t("rejected_hint", detail=state.connection_detail) if rejected
                              else t("connecting_hint"))
        elif screen == Screen.ISSUING:
            working = t("checking_in") if state.checking_in else t("issuing")
            self.title.setText(t("issuing_reconnect") if state.waiting_for_link else working)
            self.text.setText(t("please_wait"))
        else:
            info = state.notice is not None and state.notice.kind == "info"  # e.g. "come back at 09:30"
            self.title.setObjectName("bigMessage" if info else "messageTitle")
            self.title.setText(t.message_title())
            self.text.setText(t.notice())
        self.title.style().polish(self.title)
        self.update_countdown()

    def update_countdown(self) -> None:
        left = self.state.seconds_left() if self.state.screen == Screen.MESSAGE else None
        self.countdown.setText(self.t("auto_return", n=left) if left is not None else "")
