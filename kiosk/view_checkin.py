"""The check-in screens: the keypad for a booking code, and the elderly priority offer made
after a scanned CCCD (the state decides; these only draw it and forward taps)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.state import KioskState
from kiosk.view_home import button, centred, label, scale_box
from kiosk.view_text import Texts

KEY_COLUMNS = {True: 6, False: 8}  # the code's 24 characters: 4 rows of 6 (portrait), 3 of 8


class CheckinPage(QWidget):
    """"Nhập mã đặt lịch hẹn": the code as typed (XXXX-XXXX), its characters' keys, erase and
    submit. The scanner works here too."""

    def __init__(self, state: KioskState, texts: Texts) -> None:
        super().__init__()
        self.state, self.t = state, texts
        self.title = label("bigMessage")
        self.code = label("codeEntry", wrap=False)
        self.hint = label("hint")
        for widget in (self.title, self.code, self.hint):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pad = QGridLayout()
        self.keys: dict[str, QPushButton] = {}
        for key in state.code_entry.keys:
            self.keys[key] = button("codeKey", key, lambda k=key: state.code_key(k))
        self.erase = button("secondary", on_click=state.code_erase)
        self.submit = button("primary", on_click=state.code_submit)
        self.back = button("secondary", on_click=state.back)
        actions = QHBoxLayout()
        self.actions = actions
        actions.addWidget(self.back)
        actions.addStretch(1)
        actions.addWidget(self.erase)
        actions.addWidget(self.submit)
        self.layout_box = QVBoxLayout(self)
        self.layout_box.addWidget(self.title)
        self.layout_box.addWidget(self.code)
        self.layout_box.addLayout(centred(self.pad))
        self.layout_box.addWidget(self.hint)
        self.layout_box.addStretch(1)
        self.layout_box.addLayout(actions)

    def set_geometry_mode(self, unit: float, portrait: bool) -> None:
        scale_box(self.layout_box, unit, side=48 if portrait else 200, top=36 if portrait else 20,
                  bottom=36 if portrait else 20, spacing=26 if portrait else 16)
        self.pad.setSpacing(round(16 * unit))
        self.actions.setSpacing(round(20 * unit))
        side = round((150 if portrait else 124) * unit)
        columns = KEY_COLUMNS[portrait]
        for i, widget in enumerate(self.keys.values()):
            widget.setFixedSize(side, side)
            self.pad.addWidget(widget, i // columns, i % columns)
        self.submit.setMinimumWidth(round(320 * unit))

    def render(self) -> None:
        state, t = self.state, self.t
        entry = state.code_entry
        self.title.setText(t("checkin_title"))
        self.code.setText(entry.shown())
        self.hint.setText(t("checkin_hint"))
        self.erase.setText(t("erase"))
        self.erase.setEnabled(bool(entry.text))
        self.submit.setText(t("checkin_submit"))
        self.submit.setEnabled(entry.complete and state.ready)
        self.back.setText(t("back"))
        for widget in self.keys.values():
            widget.setEnabled(not entry.complete)


class OfferPage(QWidget):
    """After a CCCD scan with no appointment today: the holder is old enough for the elderly
    priority path. Yes: the services with the class chosen; no: the home screen."""

    def __init__(self, state: KioskState, texts: Texts) -> None:
        super().__init__()
        self.state, self.t = state, texts
        self.title = label("offerTitle")
        self.text = label("messageText")
        for widget in (self.title, self.text):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.accept = button("offerAccept", on_click=state.accept_offer)
        self.decline = button("secondary", on_click=state.back)
        self.layout_box = QVBoxLayout(self)
        self.layout_box.addStretch(2)
        self.layout_box.addWidget(self.title)
        self.layout_box.addWidget(self.text)
        self.layout_box.addStretch(1)
        self.layout_box.addLayout(centred(self.accept))
        self.layout_box.addLayout(centred(self.decline))
        self.layout_box.addStretch(2)

    def set_geometry_mode(self, unit: float, portrait: bool) -> None:
        scale_box(self.layout_box, unit, side=60 if portrait else 220, top=40, bottom=40, spacing=30)
        self.accept.setMinimumWidth(round(640 * unit))
        self.decline.setMinimumWidth(round(640 * unit))

    def render(self) -> None:
        t = self.t
        self.title.setText(t.offer_title())
        self.text.setText(t.offer_text())
        self.accept.setText(t("offer_accept"))
        self.decline.setText(t("offer_decline"))
