"""The kiosk window: a header (centre, clock, language), banners, and one page per screen.

It only draws ``KioskState`` and forwards taps to it; a timer drives ``state.tick()``
and the clock. Portrait and landscape layouts follow the window's own shape. Keystrokes
(the USB 2D scanner types like a keyboard; no button takes the focus, so they reach the
window) go to the state's scanner input.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from kiosk import view_style as st
from kiosk.state import KioskState, Screen
from kiosk.view_checkin import CheckinPage, OfferPage
from kiosk.view_home import HomePage, PriorityPage, button, label, scale_box
from kiosk.view_staff import PinPage, StaffPage
from kiosk.view_text import Texts
from kiosk.view_ticket import MessagePage, TicketPage
from kiosk.view_widgets import LongPressLabel

TICK_MS = 250
ISSUING_DELAY = 0.3  # s: a quick answer goes straight from the tiles to the ticket
PRINTER_TROUBLE = frozenset({"offline", "paper_out", "error"})
ENTER_KEYS = frozenset({Qt.Key.Key_Return, Qt.Key.Key_Enter})


class KioskWindow(QWidget):
    def __init__(self, state: KioskState, *, printer_uri: Callable[[], str] = lambda: "none") -> None:
        super().__init__()
        self.state = state
        self.t = Texts(state)
        self.unit: float | None = None
        self.portrait = True
        self.setObjectName("root")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setWindowTitle(self.t.tr.both("window_title")[0])  # in Vietnamese, whatever the screen shows
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the scanner's keystrokes come here

        header = QFrame()
        header.setObjectName("header")
        self.header = header
        self.title = LongPressLabel()
        self.title.setObjectName("title")
        self.title.setWordWrap(True)
        self.title.long_pressed.connect(state.staff_gesture)
        self.subtitle = label("subtitle")
        self.clock = label("clock", wrap=False)
        self.date = label("date", wrap=False)
        self.clock.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.date.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.language = button("language", on_click=state.toggle_language)
        names = QVBoxLayout()
        names.setSpacing(4)
        names.addWidget(self.title)
        names.addWidget(self.subtitle)
        time_box = QVBoxLayout()
        time_box.setSpacing(0)
        time_box.addWidget(self.clock)
        time_box.addWidget(self.date)
        self.header_box = QHBoxLayout(header)
        self.header_box.addLayout(names, 1)
        self.header_box.addLayout(time_box)
        self.header_box.addWidget(self.language)

        self.offline = label("offline")
        self.offline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.printer_warning = label("printerWarning")
        self.printer_warning.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.pages: dict[Screen, QWidget] = {}
        self.stack = QStackedWidget()
        self.home = HomePage(state, self.t)
        self.priority = PriorityPage(state, self.t)
        self.ticket = TicketPage(state, self.t)
        self.message = MessagePage(state, self.t)
        self.pin = PinPage(state, self.t)
        self.staff = StaffPage(state, self.t, printer_uri)
        self.checkin = CheckinPage(state, self.t)
        self.offer = OfferPage(state, self.t)
        for page, screens in (
            (self.home, (Screen.HOME, Screen.PRIORITY_SERVICES)),
            (self.priority, (Screen.PRIORITY,)),
            (self.ticket, (Screen.ISSUED, Screen.PRINTER_PROBLEM)),
            (self.message, (Screen.CONNECTING, Screen.ISSUING, Screen.MESSAGE)),
            (self.pin, (Screen.STAFF_PIN,)),
            (self.staff, (Screen.STAFF,)),
            (self.checkin, (Screen.CHECKIN,)),
            (self.offer, (Screen.PRIORITY_OFFER,)),
        ):
            self.stack.addWidget(page)
            for screen in screens:
                self.pages[screen] = page

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.offline)
        layout.addWidget(self.printer_warning)
        layout.addWidget(self.stack, 1)

        state.changed.connect(self.render)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self._apply_geometry()
        self.render()

    # -- geometry -----------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_geometry()

    def _apply_geometry(self) -> None:
        width, height = max(self.width(), 320), max(self.height(), 320)
        unit = st.unit_for(width, height)
        portrait = height >= width
        if unit == self.unit and portrait == self.portrait:
            return
        self.unit, self.portrait = unit, portrait
        self.setStyleSheet(st.stylesheet(unit))
        scale_box(self.header_box, unit, side=28, top=18, bottom=18, spacing=28)
        for page in (self.home, self.priority, self.ticket, self.message, self.pin, self.staff,
                     self.checkin, self.offer):
            page.set_geometry_mode(unit, portrait)
        self.render()

    # -- the scanner --------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in ENTER_KEYS:
            self.state.scanner_enter()
        elif event.text():
            self.state.scanner_key(event.text())
        else:
            super().keyPressEvent(event)

    # -- drawing ------------------------------------------------------------------------------

    def _tick(self) -> None:
        self.state.tick()
        self._update_clock()
        page = self.stack.currentWidget()
        if self.state.screen == Screen.ISSUING and page is not self.message:
            self.render()  # slow answer: now say "Đang cấp số…"
        elif hasattr(page, "update_countdown"):
            page.update_countdown()

    def _update_clock(self) -> None:
        now = self.state.local_now()
        self.clock.setText(f"{now:%H:%M}")
        self.date.setText(self.t.date_line(now))

    def render(self) -> None:
        state, t = self.state, self.t
        if self.isVisible() and self.focusWidget() is None:
            self.setFocus(Qt.FocusReason.OtherFocusReason)  # even inside the pairing frame
        self.title.setText(t.title() or t("connecting"))
        self.subtitle.setText(t.subtitle())
        self.subtitle.setVisible(bool(t.subtitle()))
        self.language.setText(t("language_toggle"))
        self._update_clock()
        offline = state.screen != Screen.CONNECTING and not state.online
        self.offline.setVisible(offline)
        self.offline.setText(f"{t('offline_banner')}\n{t('offline_hint')}")
        trouble = state.printer.enabled and state.printer_info.state in PRINTER_TROUBLE
        self.printer_warning.setVisible(trouble and state.screen in (Screen.HOME, Screen.PRIORITY_SERVICES))
        self.printer_warning.setText(t("printer_warning"))
        page = self.pages[state.screen]
        if (state.screen == Screen.ISSUING and state.issuing_for() < ISSUING_DELAY
                and self.stack.currentWidget() is self.home):
            page = self.home
        self.stack.setCurrentWidget(page)
        page.render()

    def current_page(self) -> QWidget:
        return self.stack.currentWidget()



