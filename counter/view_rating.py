"""The citizen-facing rating window (on a second screen when there is one).

Neutral greeting → after a finish, the site's rating scale as large buttons with the
question → thanks → neutral again. Vietnamese first, English underneath, whatever the
clerk's language. Behaviour lives in ``counter.rating_state.RatingPrompt``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from common.i18n import Translator
from counter.rating_state import RatingPhase, RatingPrompt
from counter.state import CounterState
from counter.view_style import BACKGROUND, CARD, DANGER, INK, LINE, MUTED, PRIMARY, SERVING

GREEN, LIGHT_GREEN, GREY, AMBER, RED = "#0E7C3A", "#4C9A2A", "#6B7280", "#B45309", DANGER
# From the best to the worst answer, by the size of the scale (provinces use 3-5 levels).
SCALE_COLOURS = {
    2: [GREEN, RED], 3: [GREEN, AMBER, RED], 4: [GREEN, LIGHT_GREEN, AMBER, RED],
    5: [GREEN, LIGHT_GREEN, GREY, AMBER, RED],
}


def scale_colours(count: int) -> list[str]:
    if count in SCALE_COLOURS:
        return SCALE_COLOURS[count]
    five = SCALE_COLOURS[5]
    return [five[round(i * 4 / max(count - 1, 1))] for i in range(count)]

STYLE = f"""
#ratingWindow {{ background: {BACKGROUND}; }}
#band {{ background: {PRIMARY}; }}
#band QLabel {{ color: white; }}
#centre {{ font-size: 22px; font-weight: 700; }}
#counterName {{ font-size: 18px; color: #D6E4F5; }}
#big {{ font-size: 44px; font-weight: 800; color: {INK}; }}
#number {{ font-size: 30px; font-weight: 800; color: {PRIMARY}; }}
#question {{ font-size: 28px; font-weight: 700; color: {INK}; }}
#questionEn {{ font-size: 18px; color: {MUTED}; }}
#motto {{ font-size: 20px; color: {MUTED}; font-style: italic; }}
#thanks {{ font-size: 46px; font-weight: 800; color: {SERVING}; }}
#countdown {{ font-size: 15px; color: {MUTED}; }}
#retry {{ font-size: 18px; color: {DANGER}; font-weight: 700; }}
QPushButton#rate {{ background: {CARD}; border: 3px solid {LINE}; border-radius: 18px; min-height: 150px; }}
QPushButton#rate:disabled {{ background: #F2F4F7; }}
#rateVi {{ font-size: 26px; font-weight: 800; }}
#rateEn {{ font-size: 16px; color: {MUTED}; }}
"""


class RateButton(QPushButton):
    def __init__(self, value: int, name_vi: str, name_en: str, colour: str) -> None:
        super().__init__()
        self.value = value
        self.setObjectName("rate")
        self.setStyleSheet(f"QPushButton#rate {{ border-color: {colour}; }} "
                           f"QPushButton#rate:pressed {{ background: {colour}; }}")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 12, 10, 12)
        dot = QLabel("●", alignment=Qt.AlignmentFlag.AlignCenter)
        dot.setStyleSheet(f"color: {colour}; font-size: 34px;")
        vi = QLabel(name_vi, objectName="rateVi", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        vi.setStyleSheet(f"color: {colour};")
        en = QLabel(name_en, objectName="rateEn", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        for label in (dot, vi, en):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            layout.addWidget(label)
        self.setAccessibleName(name_vi)


class RatingWindow(QWidget):
    def __init__(self, state: CounterState, prompt: RatingPrompt,
                 now: Callable[[], datetime]) -> None:
        super().__init__()
        self.state = state
        self.prompt = prompt
        self.now = now
        self.tr = Translator("counter", "vi")
        self.setObjectName("ratingWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(STYLE)
        self.setWindowTitle(self.tr.text("rating_window_title"))
        self.resize(1024, 600)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        band = QFrame(objectName="band")
        band_layout = QHBoxLayout(band)
        band_layout.setContentsMargins(28, 14, 28, 14)
        self.centre = QLabel(objectName="centre", wordWrap=True)
        self.counter_name = QLabel(objectName="counterName",
                                   alignment=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        band_layout.addWidget(self.centre, 1)
        band_layout.addWidget(self.counter_name)
        outer.addWidget(band)
        body = QVBoxLayout()
        body.setContentsMargins(40, 24, 40, 24)
        body.setSpacing(12)
        outer.addLayout(body, 1)
        self.headline = QLabel(objectName="big", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.number = QLabel(objectName="number", alignment=Qt.AlignmentFlag.AlignCenter)
        self.question = QLabel(objectName="question", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.question_en = QLabel(objectName="questionEn", alignment=Qt.AlignmentFlag.AlignCenter,
                                  wordWrap=True)
        self.motto = QLabel(objectName="motto", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.retry = QLabel(objectName="retry", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        body.addStretch(1)
        for label in (self.headline, self.number, self.question, self.question_en):
            body.addWidget(label)
        self.buttons_box = QGridLayout()
        self.buttons_box.setSpacing(18)
        body.addSpacing(10)
        body.addLayout(self.buttons_box)
        body.addWidget(self.retry)
        body.addWidget(self.motto)
        body.addStretch(1)
        self.countdown = QLabel(objectName="countdown", alignment=Qt.AlignmentFlag.AlignCenter)
        body.addWidget(self.countdown)
        self.buttons: list[RateButton] = []
        self._scale: list = []
        prompt.listeners.append(self.render)
        state.changed.connect(self._state_changed)
        self.timer = QTimer(self, interval=1000)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.render()

    def place(self) -> None:
        """Full screen on the second screen when there is one; a window otherwise."""
        screens = QGuiApplication.screens()
        if len(screens) > 1:
            target = screens[1]
            self.setScreen(target)
            self.move(target.geometry().topLeft())
            self.showFullScreen()
        else:
            self.show()

    def _state_changed(self) -> None:
        ticket = self.prompt.ticket
        if ticket is not None:
            mirrored = self.state.mirror.tickets.get(ticket.id)
            if mirrored is not None and mirrored.rating is not None:
                self.prompt.rated_elsewhere(ticket.id)
        self.render()

    def _tick(self) -> None:
        self.prompt.tick(self.now())
        if self.prompt.phase in (RatingPhase.ASKING, RatingPhase.THANKS):
            self._render_countdown()

    def _build_buttons(self) -> None:
        site = self.state.mirror.site
        scale = list(site.rating) if site else []
        if scale == self._scale:
            return
        self._scale = scale
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []
        ordered = sorted(scale, key=lambda r: -r.value)  # the best first, left
        colours = scale_colours(len(ordered))
        for index, option in enumerate(ordered):
            button = RateButton(option.value, option.name_vi, option.name_en, colours[index])
            button.clicked.connect(lambda _=False, v=option.value: self.prompt.choose(v, self.now()))
            self.buttons_box.addWidget(button, 0, index)
            self.buttons.append(button)

    def render(self) -> None:
        tr, state, prompt = self.tr, self.state, self.prompt
        site = state.mirror.site
        counter = state.mirror.counter
        self.centre.setText(site.name if site else "")
        label = ""
        if counter is not None:
            label = tr.text("counter_label", number=counter.number, name=counter.name_in(tr.language))
        self.counter_name.setText(label)
        self._build_buttons()
        phase = prompt.phase
        asking = phase in (RatingPhase.ASKING, RatingPhase.SENDING)
        vi, en = tr.both("rating_question")
        if phase is RatingPhase.THANKS:
            headline = "\n".join(tr.both("rating_thanks"))
        elif asking:
            headline = ""
        else:
            headline = tr.text("rating_welcome")
        self.headline.setText(headline)
        self.headline.setObjectName("thanks" if phase is RatingPhase.THANKS else "big")
        self.headline.style().unpolish(self.headline)
        self.headline.style().polish(self.headline)
        self.headline.setVisible(bool(headline))
        self.number.setText(tr.text("rating_number", number=prompt.ticket.number) if asking and prompt.ticket
                            else "")
        self.number.setVisible(asking)
        self.question.setText(vi)
        self.question_en.setText(en)
        self.question.setVisible(asking)
        self.question_en.setVisible(asking)
        for button in self.buttons:
            button.setVisible(asking)
            button.setEnabled(phase is RatingPhase.ASKING)
        self.retry.setText("\n".join(tr.both("rating_retry")) if prompt.failed else "")
        self.retry.setVisible(prompt.failed and asking)
        self.motto.setText(tr.text("rating_motto"))
        self.motto.setVisible(phase is RatingPhase.NEUTRAL)
        self._render_countdown()

    def _render_countdown(self) -> None:
        phase = self.prompt.phase
        if phase is RatingPhase.ASKING:
            seconds = self.prompt.seconds_left(self.now())
            self.countdown.setText(self.tr.text("rating_countdown", seconds=seconds))
        else:
            self.countdown.setText("")
