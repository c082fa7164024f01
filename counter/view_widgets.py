"""Small widgets of the counter window: a button with its function key, a label that
ends in "…", one queue line, and the helpers that re-apply dynamic styles."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from counter import present
from counter.actions import SHORTCUTS, Action


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed (widget and children)."""
    for w in [widget, *widget.findChildren(QWidget)]:
        w.style().unpolish(w)
        w.style().polish(w)


def set_property(widget: QWidget, name: str, value: object) -> None:
    if widget.property(name) != value:
        widget.setProperty(name, value)
        repolish(widget)


class ActionButton(QPushButton):
    """A button showing its label and its function key."""

    def __init__(self, action: Action, *, big: bool = False, danger: bool = False) -> None:
        super().__init__()
        self.action = action
        self.setObjectName("action")
        self.setProperty("big", big)
        self.setProperty("danger", danger)
        self.setProperty("primary", False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window's shortcuts
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 6, 0)
        layout.setSpacing(4)
        self.label = ElidedLabel(objectName="actionLabel")
        self.key = QLabel(SHORTCUTS.get(action, ""), objectName="keyChip")
        for label in (self.label, self.key):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.key, 0, Qt.AlignmentFlag.AlignVCenter)
        self.key.setVisible(bool(self.key.text()))

    def set_label(self, text: str) -> None:
        if self.label.full_text != text:
            self.label.setText(text)
            self.setAccessibleName(f"{text} ({self.key.text()})" if self.key.text() else text)


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" instead of being cut or widening the window."""

    def __init__(self, text: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.setMinimumWidth(40)
        self.full_text = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        self.full_text = text
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        shown = metrics.elidedText(self.full_text, Qt.TextElideMode.ElideRight, max(self.width(), 20))
        if shown != super().text():
            super().setText(shown)


class RowWidget(QWidget):
    """One queue line: the number (★ for priority), what it is, and a time on the right."""

    def __init__(self, row: present.Row) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.setSpacing(8)
        number = QLabel(("★ " if row.priority else "") + row.number, objectName="rowNumber")
        number.setProperty("priority", row.priority)
        number.setMinimumWidth(72)
        text = ElidedLabel(row.text, objectName="rowText")
        text.setProperty("mine", row.mine)
        detail = QLabel(row.detail, objectName="rowDetail")
        layout.addWidget(number)
        layout.addWidget(text, 1)
        layout.addWidget(detail)
