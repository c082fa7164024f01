"""Staff screens behind the hidden long-press: the PIN pad and the reprint/printer page."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from kiosk.state import KioskState
from kiosk.view_home import button, centred, label, scale_box
from kiosk.view_text import Texts


class PinPage(QWidget):
    def __init__(self, state: KioskState, texts: Texts) -> None:
        super().__init__()
        self.state, self.t = state, texts
        self.title = label("bigMessage")
        self.dots = label("pinDots", wrap=False)
        self.message = label("staffMessage")
        for widget in (self.title, self.dots, self.message):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pad = QGridLayout()
        self.pad = pad
        for i, digit in enumerate("123456789"):
            pad.addWidget(button("key", digit, lambda d=digit: state.pin_digit(d)), i // 3, i % 3)
        self.erase = button("key", on_click=state.pin_erase)
        self.enter = button("key", on_click=state.pin_submit)
        pad.addWidget(self.erase, 3, 0)
        pad.addWidget(button("key", "0", lambda: state.pin_digit("0")), 3, 1)
        pad.addWidget(self.enter, 3, 2)
        self.cancel = button("secondary", on_click=state.back)
        self.layout_box = QVBoxLayout(self)
        self.layout_box.addStretch(1)
        self.layout_box.addWidget(self.title)
        self.layout_box.addWidget(self.dots)
        self.layout_box.addWidget(self.message)
        self.layout_box.addLayout(centred(pad))
        self.layout_box.addLayout(centred(self.cancel))
        self.layout_box.addStretch(1)

    def set_geometry_mode(self, unit: float, portrait: bool) -> None:
        self.pad.setSpacing(round(18 * unit))
        self.layout_box.setSpacing(round(22 * unit))

    def render(self) -> None:
        t = self.t
        self.title.setText(t("staff_pin_title"))
        self.dots.setText("●" * len(self.state.staff.pin) or " ")
        self.message.setText(t.staff_message())
        self.erase.setText(t("erase"))
        self.enter.setText(t("enter"))
        self.cancel.setText(t("back"))


class StaffPage(QWidget):
    def __init__(self, state: KioskState, texts: Texts, printer_uri: callable) -> None:
        super().__init__()
        self.state, self.t = state, texts
        self.printer_uri = printer_uri
        self.title = label("bigMessage")
        self.last = label("staffLine")
        self.printer = label("staffLine")
        self.message = label("staffMessage")
        self.reprint = button("primary", on_click=state.reprint_last)
        self.check = button("secondary", on_click=state.check_printer)
        self.close = button("secondary", on_click=state.back)
        self.layout_box = QVBoxLayout(self)
        for widget in (self.title, self.last, self.printer, self.message):
            self.layout_box.addWidget(widget)
        self.layout_box.addSpacing(20)
        for widget in (self.reprint, self.check, self.close):
            self.layout_box.addWidget(widget)
        self.layout_box.addStretch(1)

    def set_geometry_mode(self, unit: float, portrait: bool) -> None:
        scale_box(self.layout_box, unit, side=60 if portrait else 240, top=50, bottom=40, spacing=24)

    def render(self) -> None:
        state, t = self.state, self.t
        device = state.device.name if state.device else ""
        self.title.setText(t("staff_title", device=device))
        last = state.last_ticket
        if last is None:
            self.last.setText(t("staff_no_ticket"))
        else:
            when = last.ticket.issued_at.astimezone(state.timezone)
            self.last.setText(t("staff_last_ticket", number=last.ticket.number,
                                service=t.service_name(last.service, last.ticket.service),
                                time=f"{when:%H:%M:%S}"))
        info = state.printer_info
        self.printer.setText(t("staff_printer", uri=self.printer_uri(), state=t.printer_state(info.state))
                             + (f" – {info.detail}" if info.detail else ""))
        self.message.setText(t.staff_message())
        self.reprint.setText(t("staff_reprint"))
        self.reprint.setEnabled(last is not None)
        self.check.setText(t("staff_check"))
        self.close.setText(t("staff_close"))
