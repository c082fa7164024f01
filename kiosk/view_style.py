"""The kiosk's look: colours, type sizes and the style sheet, scaled to the screen.

Sizes are designed for a 1080-pixel short side (a 21-24" Full HD touch screen, portrait
or landscape) and scaled by ``unit`` on other screens, so touch targets stay >= 15 mm.
"""

from __future__ import annotations

from PySide6.QtGui import QFont

from common.qt_theme import FAMILY

NAVY = "#0b3a75"
NAVY_DARK = "#072a56"
BACKGROUND = "#eef2f7"
CARD = "#ffffff"
TEXT = "#0f172a"
MUTED = "#475569"
LINE = "#cbd5e1"
ACCENT = "#1d4ed8"
ACCENT_SOFT = "#dbeafe"
PRIORITY = "#b45309"
PRIORITY_DARK = "#92400e"
PRIORITY_SOFT = "#fef3c7"
CLOSED_BG = "#e2e8f0"
CLOSED_TEXT = "#475569"
CLOSED_STATUS = "#9a3412"
DANGER = "#b91c1c"
SUCCESS = "#15803d"
WARNING_BG = "#fde68a"
WARNING_TEXT = "#78350f"

DESIGN_SHORT_SIDE = 1080


def unit_for(width: int, height: int) -> float:
    return max(0.35, min(2.0, min(width, height) / DESIGN_SHORT_SIDE))


def font(px: float, weight: int = 400) -> QFont:
    f = QFont(FAMILY)
    f.setPixelSize(max(8, round(px)))
    f.setWeight(QFont.Weight(weight))
    return f


def stylesheet(u: float) -> str:
    def s(px: float) -> str:
        return f"{max(1, round(px * u))}px"

    return f"""
    QWidget#root {{ background: {BACKGROUND}; }}
    QFrame#header {{ background: {NAVY}; }}
    QLabel {{ color: {TEXT}; }}
    QLabel#title {{ color: white; font-size: {s(36)}; font-weight: 700; }}
    QLabel#subtitle {{ color: #c7d7ee; font-size: {s(22)}; }}
    QLabel#clock {{ color: white; font-size: {s(60)}; font-weight: 700; }}
    QLabel#date {{ color: #c7d7ee; font-size: {s(22)}; }}
    QPushButton#language {{
        color: white; background: {NAVY_DARK}; border: {s(2)} solid #6b8fc4; border-radius: {s(14)};
        font-size: {s(26)}; font-weight: 600; padding: 0 {s(26)};
        min-height: {s(100)}; max-height: {s(100)}; min-width: {s(200)};
    }}
    QPushButton#language:pressed {{ background: #163f7a; }}
    QLabel#offline {{
        background: {DANGER}; color: white; font-size: {s(30)}; font-weight: 700; padding: {s(18)};
    }}
    QLabel#printerWarning {{
        background: {WARNING_BG}; color: {WARNING_TEXT}; font-size: {s(25)}; font-weight: 600;
        padding: {s(12)};
    }}
    QLabel#instruction {{ font-size: {s(42)}; font-weight: 700; color: {TEXT}; }}
    QLabel#groupHeader {{ font-size: {s(24)}; font-weight: 700; color: {NAVY}; }}
    QLabel#footer {{ font-size: {s(22)}; color: {MUTED}; }}
    QPushButton#priorityEntry {{
        background: {PRIORITY}; color: white; border: none; border-radius: {s(20)};
        min-height: {s(112)}; text-align: left; padding: 0 {s(32)};
    }}
    QPushButton#priorityEntry:pressed {{ background: {PRIORITY_DARK}; }}
    QPushButton#priorityEntry:disabled {{ background: #a8a29e; }}
    QLabel#priorityEntryTitle {{ color: white; font-size: {s(40)}; font-weight: 800; }}
    QLabel#priorityEntryHint {{ color: #fff7ed; font-size: {s(23)}; font-weight: 500; }}
    QLabel#priorityEntryArrow {{ color: white; font-size: {s(64)}; font-weight: 700; }}
    QPushButton#checkinEntry {{
        background: {NAVY}; color: white; border: none; border-radius: {s(20)};
        min-height: {s(112)}; text-align: left; padding: 0 {s(32)};
    }}
    QPushButton#checkinEntry:pressed {{ background: {NAVY_DARK}; }}
    QPushButton#checkinEntry:disabled {{ background: #94a3b8; }}
    QLabel#checkinEntryTitle {{ color: white; font-size: {s(38)}; font-weight: 800; }}
    QLabel#checkinEntryHint {{ color: #dbeafe; font-size: {s(23)}; font-weight: 500; }}
    QLabel#checkinEntryArrow {{ color: white; font-size: {s(64)}; font-weight: 700; }}
    QLabel#codeEntry {{
        font-size: {s(96)}; font-weight: 800; color: {NAVY}; letter-spacing: {s(10)};
        background: {CARD}; border: {s(3)} solid {NAVY}; border-radius: {s(20)}; padding: {s(12)} {s(28)};
    }}
    QPushButton#codeKey {{
        background: {CARD}; color: {TEXT}; border: {s(2)} solid {LINE}; border-radius: {s(18)};
        font-size: {s(52)}; font-weight: 800;
    }}
    QPushButton#codeKey:pressed {{ background: {ACCENT_SOFT}; }}
    QPushButton#codeKey:disabled {{ color: #94a3b8; background: {CLOSED_BG}; }}
    QLabel#offerTitle {{ font-size: {s(50)}; font-weight: 800; color: {PRIORITY_DARK}; }}
    QPushButton#offerAccept {{
        background: {PRIORITY}; color: white; border: none; border-radius: {s(18)};
        font-size: {s(40)}; font-weight: 800; min-height: {s(128)}; padding: 0 {s(56)};
    }}
    QPushButton#offerAccept:pressed {{ background: {PRIORITY_DARK}; }}
    QLabel#ticketAppointment {{
        background: {NAVY}; color: white; font-size: {s(34)}; font-weight: 800;
        padding: {s(8)} {s(24)}; border-radius: {s(14)};
    }}
    QLabel#ticketLate {{
        background: {WARNING_BG}; color: {WARNING_TEXT}; font-size: {s(28)}; font-weight: 700;
        padding: {s(8)} {s(22)}; border-radius: {s(14)};
    }}
    QFrame#priorityBanner {{
        background: {PRIORITY_SOFT}; border: {s(3)} solid {PRIORITY}; border-radius: {s(20)};
    }}
    QLabel#priorityBannerText {{ color: {PRIORITY_DARK}; font-size: {s(32)}; font-weight: 700; }}
    QPushButton#priorityClass {{
        background: {CARD}; color: {TEXT}; border: {s(3)} solid {PRIORITY}; border-radius: {s(20)};
        min-height: {s(128)}; padding: {s(12)} {s(36)};
    }}
    QLabel#priorityClassText {{ font-size: {s(36)}; font-weight: 700; color: {TEXT}; }}
    QLabel#priorityClassArrow {{ font-size: {s(60)}; font-weight: 700; color: {PRIORITY}; }}
    QPushButton#priorityClass:pressed {{ background: {PRIORITY_SOFT}; }}
    QPushButton#secondary {{
        background: {CARD}; color: {NAVY}; border: {s(3)} solid {NAVY}; border-radius: {s(18)};
        font-size: {s(32)}; font-weight: 700; min-height: {s(100)}; padding: 0 {s(40)};
    }}
    QPushButton#secondary:pressed {{ background: {ACCENT_SOFT}; }}
    QPushButton#primary {{
        background: {ACCENT}; color: white; border: none; border-radius: {s(18)};
        font-size: {s(38)}; font-weight: 700; min-height: {s(112)}; padding: 0 {s(56)};
    }}
    QPushButton#primary:pressed {{ background: #1e3a8a; }}
    QPushButton#primary:disabled {{ background: #94a3b8; }}
    QLabel#bigMessage {{ font-size: {s(54)}; font-weight: 800; color: {NAVY}; }}
    QLabel#messageTitle {{ font-size: {s(48)}; font-weight: 800; color: {DANGER}; }}
    QLabel#messageText {{ font-size: {s(36)}; font-weight: 500; color: {TEXT}; }}
    QLabel#hint {{ font-size: {s(30)}; color: {MUTED}; }}
    QLabel#countdown {{ font-size: {s(24)}; color: {MUTED}; }}
    QFrame#card {{ background: {CARD}; border-radius: {s(28)}; border: {s(2)} solid {LINE}; }}
    QLabel#statusOk {{
        background: {SUCCESS}; color: white; font-size: {s(34)}; font-weight: 700;
        padding: {s(20)}; border-radius: {s(20)};
    }}
    QLabel#statusInfo {{
        background: {ACCENT_SOFT}; color: {NAVY}; font-size: {s(32)}; font-weight: 700;
        padding: {s(20)}; border-radius: {s(20)};
    }}
    QLabel#statusProblem {{
        background: {DANGER}; color: white; font-size: {s(38)}; font-weight: 800;
        padding: {s(24)}; border-radius: {s(20)};
    }}
    QLabel#numberCaption {{ font-size: {s(32)}; font-weight: 700; color: {MUTED}; letter-spacing: {s(2)}; }}
    QLabel#ticketService {{ font-size: {s(38)}; font-weight: 700; color: {TEXT}; }}
    QLabel#ticketPriority {{
        background: {PRIORITY}; color: white; font-size: {s(28)}; font-weight: 700;
        padding: {s(8)} {s(22)}; border-radius: {s(14)};
    }}
    QLabel#rowLabel {{ font-size: {s(28)}; color: {MUTED}; }}
    QLabel#rowValue {{ font-size: {s(34)}; font-weight: 700; color: {TEXT}; }}
    QLabel#keepTicket {{ font-size: {s(34)}; font-weight: 800; color: {NAVY}; }}
    QLabel#qrCaption {{ font-size: {s(24)}; color: {MUTED}; }}
    QLabel#problemDetail {{ font-size: {s(28)}; font-weight: 600; color: {DANGER}; }}
    QLabel#pinDots {{ font-size: {s(64)}; font-weight: 800; color: {NAVY}; letter-spacing: {s(16)}; }}
    QPushButton#key {{
        background: {CARD}; color: {TEXT}; border: {s(2)} solid {LINE}; border-radius: {s(18)};
        font-size: {s(44)}; font-weight: 700; min-height: {s(120)}; min-width: {s(180)};
    }}
    QPushButton#key:pressed {{ background: {ACCENT_SOFT}; }}
    QLabel#staffLine {{ font-size: {s(30)}; color: {TEXT}; }}
    QLabel#staffMessage {{ font-size: {s(30)}; font-weight: 700; color: {ACCENT}; }}
    QScrollArea {{ background: transparent; border: none; }}
    QScrollBar:vertical {{ width: {s(28)}; background: {CLOSED_BG}; }}
    QScrollBar::handle:vertical {{ background: #94a3b8; border-radius: {s(10)}; min-height: {s(80)}; }}
    """
