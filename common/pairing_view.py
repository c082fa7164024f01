"""The full-screen pairing screen of a new kiosk or display, and the frame that shows it
instead of the device's own window until the device is paired.

It draws ``PairingState`` only: the code very large (read from across a hall), Vietnamese
first with English under every line, where a manager enters the code, how long it is
valid, and why the device is pairing again after a revocation. A timer lets the state ask
for a fresh code when this one expires.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from common.i18n import Translator
from common.pairing_state import PairingPhase, PairingState
from common.qt_theme import FAMILY

TICK_MS = 500
NAVY = "#0b3a75"
WHITE = "#ffffff"
PALE = "#c7d6ee"
WARNING = "#fde68a"
DESIGN_SHORT_SIDE = 1080
WIDEST_CODE = "WWW WWW"  # sizes below are for a Full HD screen and scale with it

STYLE = f"""
#pairing {{ background: {NAVY}; }}
#pairing QLabel {{ color: {WHITE}; background: transparent; }}
#pairing QLabel[english="true"] {{ color: {PALE}; }}
#pairing QLabel[warning="true"] {{ color: {WARNING}; }}
#codeCard {{ background: {WHITE}; border-radius: 24px; }}
#pairing QLabel#code {{ color: {NAVY}; }}
"""


def _label(*, english: bool = False, warning: bool = False, name: str = "") -> QLabel:
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setProperty("english", english)
    label.setProperty("warning", warning)
    if name:
        label.setObjectName(name)
    return label


class PairingScreen(QWidget):
    """What a device with no credential shows: its pairing code."""

    def __init__(self, state: PairingState, server: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.server = server
        self.texts = Translator("pairing")
        self.setObjectName("pairing")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(STYLE)
        self.heading, self.heading_en = _label(), _label(english=True)
        self.code = _label(name="code")
        self.code.setWordWrap(False)  # one line, as wide as the code
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        card = QFrame()
        card.setObjectName("codeCard")
        card.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        card_box = QVBoxLayout(card)
        card_box.addWidget(self.code)
        self.card, self.card_box = card, card_box
        self.where, self.where_en = _label(), _label(english=True)
        self.status, self.status_en = _label(), _label(english=True)
        self.notice, self.notice_en = _label(warning=True), _label(warning=True, english=True)
        self.footer = _label(english=True)
        layout = QVBoxLayout(self)
        self.box = layout
        layout.addStretch(2)
        for widget in (self.notice, self.notice_en):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.heading)
        layout.addWidget(self.heading_en)
        layout.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        for widget in (self.where, self.where_en, self.status, self.status_en):
            layout.addWidget(widget)
        layout.addStretch(3)
        layout.addWidget(self.footer)
        self._fonts()
        self.refresh()

    def refresh(self) -> None:
        state, tr = self.state, self.texts
        showing = state.phase is PairingPhase.SHOWING
        self.card.setVisible(showing)
        self.code.setText(state.spaced_code)
        for label, english, key in ((self.heading, self.heading_en, "heading"),
                                    (self.where, self.where_en, "where")):
            vi, en = tr.both(key)
            label.setText(vi)
            english.setText(en)
            label.setVisible(showing)
            english.setVisible(showing)
        vi, en = self._status()
        self.status.setText(vi)
        self.status_en.setText(en)
        notice = state.notice
        self.notice.setVisible(notice is not None)
        self.notice_en.setVisible(notice is not None)
        self.notice.setText(notice.vi if notice else "")
        self.notice_en.setText(notice.en if notice else "")
        kind_vi, kind_en = tr.both(f"kind_{state.kind}")
        footer_vi = tr.both("footer", kind=kind_vi, server=self.server)[0]
        footer_en = tr.both("footer", kind=kind_en, server=self.server)[1]
        self.footer.setText(f"{footer_vi}\n{footer_en}")

    def _status(self) -> tuple[str, str]:
        state, tr = self.state, self.texts
        phase = state.phase
        if phase is PairingPhase.SHOWING:
            return tr.both("valid_for", minutes=state.minutes_left() or 1)
        if phase is PairingPhase.ASKING:
            return tr.both("asking")
        if phase is PairingPhase.REFUSED:
            return tr.both("retry")
        if phase is PairingPhase.LOGGING_IN and state.device is not None:
            device = state.device
            return tr.both("logging_in", name=device.name, device=device.id, site=device.site)
        return tr.both("connecting", server=self.server)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fonts()

    def _fonts(self) -> None:
        unit = max(0.3, min(2.0, min(self.width(), self.height()) / DESIGN_SHORT_SIDE))

        def font(px: float, weight: QFont.Weight = QFont.Weight.Normal) -> QFont:
            result = QFont(FAMILY)
            result.setPixelSize(max(10, round(px * unit)))
            result.setWeight(weight)
            return result

        self.heading.setFont(font(64, QFont.Weight.Bold))
        self.heading_en.setFont(font(38))
        margins = [round(m * unit) for m in (70, 20, 56, 20)]
        room = 0.92 * self.width() - margins[0] - margins[2]
        code = font(190, QFont.Weight.Bold)
        widest = QFontMetrics(code).horizontalAdvance(WIDEST_CODE)
        if widest > room > 0:  # a narrow (portrait) screen: the code as large as fits
            code.setPixelSize(max(10, int(code.pixelSize() * room / widest)))
        code.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, code.pixelSize() * 0.07)
        self.code.setFont(code)
        metrics = QFontMetrics(code)  # as wide as the widest code: the card never jumps
        self.code.setFixedSize(metrics.horizontalAdvance(WIDEST_CODE), metrics.height())
        self.card_box.setContentsMargins(*margins)
        for label in (self.where, self.status, self.notice):
            label.setFont(font(42, QFont.Weight.DemiBold))
        for label in (self.where_en, self.status_en, self.notice_en):
            label.setFont(font(30))
        self.footer.setFont(font(24))
        self.box.setContentsMargins(*(round(40 * unit),) * 4)
        self.box.setSpacing(round(14 * unit))


class DeviceFrame(QStackedWidget):
    """The device's window: its pairing screen until it is paired, then ``device_window``
    (and the pairing screen again if it is revoked)."""

    def __init__(self, state: PairingState, device_window: QWidget, server: str) -> None:
        super().__init__()
        self.state = state
        self.pairing_screen = PairingScreen(state, server)
        self.device_window = device_window
        self.addWidget(self.pairing_screen)
        self.addWidget(device_window)
        self.setWindowTitle(Translator("pairing").both("window_title")[0])
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        state.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        if self.state.pairing:
            self.pairing_screen.refresh()
            self.setCurrentWidget(self.pairing_screen)
            self.setWindowTitle(Translator("pairing").both("window_title")[0])
        else:
            self.setCurrentWidget(self.device_window)
            self.setWindowTitle(self.device_window.windowTitle())

    def _tick(self) -> None:
        if self.state.pairing:
            self.state.tick()
            self.pairing_screen.refresh()

    def stop(self) -> None:
        self.timer.stop()
