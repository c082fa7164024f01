"""Colours and the style sheet of the counter app (one place, so views stay plain)."""

from __future__ import annotations

INK = "#14213D"  # text
MUTED = "#5B6475"
LINE = "#D9DEE7"
BACKGROUND = "#EEF1F5"
CARD = "#FFFFFF"
PRIMARY = "#0B5CAD"
PRIMARY_DARK = "#084785"
CALLED = "#B25E00"  # amber: called, waiting for the citizen to come
CALLED_BG = "#FFF1DC"
SERVING = "#0E7C3A"  # green: being served
SERVING_BG = "#E3F5EA"
DANGER = "#B3261E"
DANGER_BG = "#FDECEA"
PAUSED = "#6B4FA0"
PAUSED_BG = "#EFEAF8"
PRIORITY = "#C2410C"
# A queue row's item: its padding above and below and its bottom border, in pixels. The row's
# widget is laid out inside them, so the item's height is the widget's and these.
ROW_PADDING_Y = 4
ROW_BORDER = 1

STYLE_SHEET = f"""
QWidget {{ color: {INK}; }}
QMainWindow, QDialog, #page {{ background: {BACKGROUND}; }}
QToolTip {{ color: {INK}; background: #FFFBE6; border: 1px solid {LINE}; padding: 4px; }}

#header {{ background: {PRIMARY}; }}
#header QLabel {{ color: white; }}
#counterTitle {{ font-size: 16px; font-weight: 700; }}
#clerkName {{ font-size: 12px; color: #D6E4F5; }}
#statusPill {{ border-radius: 8px; padding: 1px 8px; font-size: 10px; font-weight: 700;
              background: #2E7D32; color: white; }}
#statusPill[status="paused"] {{ background: {PAUSED}; }}
#statusPill[status="closed"] {{ background: {MUTED}; }}
#headerButton {{ background: transparent; color: white; border: 1px solid rgba(255,255,255,0.45);
                border-radius: 6px; padding: 3px 8px; font-size: 12px; font-weight: 600; }}
#headerButton:hover {{ background: rgba(255,255,255,0.15); }}
#headerButton::menu-indicator {{ image: none; width: 0; }}
#headerButton:checked {{ background: white; color: {PRIMARY}; }}

#offlineBanner {{ background: {DANGER}; }}
#offlineBanner QLabel {{ color: white; font-size: 14px; font-weight: 700; }}

#card {{ background: {CARD}; border: 1px solid {LINE}; border-radius: 12px; }}
#card[kind="called"] {{ border: 2px solid {CALLED}; }}
#card[kind="serving"] {{ border: 2px solid {SERVING}; }}
#card[kind="paused"] {{ border: 2px solid {PAUSED}; background: {PAUSED_BG}; }}
#ticketNumber {{ font-size: 64px; font-weight: 800; color: {INK}; }}
#ticketNumber[kind="idle"], #ticketNumber[kind="paused"] {{ font-size: 26px; font-weight: 700; }}
#stateBadge {{ border-radius: 6px; padding: 3px 10px; font-size: 13px; font-weight: 800; }}
#stateBadge[kind="called"] {{ background: {CALLED_BG}; color: {CALLED}; }}
#stateBadge[kind="serving"] {{ background: {SERVING_BG}; color: {SERVING}; }}
#stateBadge[kind="paused"] {{ background: white; color: {PAUSED}; }}
#serviceName {{ font-size: 16px; font-weight: 600; }}
#priorityBadge {{ background: #FFEDD5; color: {PRIORITY}; border-radius: 6px; padding: 3px 8px;
                 font-size: 13px; font-weight: 700; }}
#cardLine {{ font-size: 14px; color: {MUTED}; }}
#cardTimer {{ font-size: 16px; font-weight: 600; color: {INK}; }}

QPushButton#action {{ background: white; border: 1px solid #B8C2D1; border-radius: 8px;
                     min-height: 40px; padding: 0 8px; text-align: left; }}
QPushButton#action:hover {{ border-color: {PRIMARY}; background: #F3F7FC; }}
QPushButton#action:pressed {{ background: #E2ECF8; }}
QPushButton#action:disabled {{ background: #F2F4F7; border-color: #E1E5EC; }}
QPushButton#action[big="true"] {{ min-height: 54px; }}
QPushButton#action[primary="true"] {{ background: {PRIMARY}; border-color: {PRIMARY_DARK}; }}
QPushButton#action[primary="true"]:hover {{ background: {PRIMARY_DARK}; }}
QPushButton#action[danger="true"] {{ border-color: #E6B4B0; }}
#actionLabel {{ font-size: 14px; font-weight: 600; }}
QPushButton#action[big="false"] #actionLabel {{ font-size: 13px; }}
QPushButton#action[big="true"] #actionLabel {{ font-size: 16px; font-weight: 700; }}
QPushButton#action[primary="true"] #actionLabel {{ color: white; }}
QPushButton#action[danger="true"] #actionLabel {{ color: {DANGER}; }}
#actionLabel:disabled, QPushButton#action[danger="true"] #actionLabel:disabled {{ color: #8F98A8; }}
QPushButton#action[danger="true"]:disabled {{ border-color: #E1E5EC; }}
#keyChip {{ border: 1px solid #B8C2D1; border-radius: 4px; padding: 0 4px; font-size: 11px;
           font-weight: 700; color: {MUTED}; background: #F6F8FB; }}
QPushButton#action[primary="true"] #keyChip {{ color: white; background: rgba(255,255,255,0.18);
                                               border-color: rgba(255,255,255,0.6); }}
#keyChip:disabled {{ color: #B8C0CC; border-color: #E1E5EC; background: transparent; }}

#sectionTitle {{ font-size: 12px; font-weight: 700; color: {MUTED}; }}
QTabWidget::pane {{ border: 1px solid {LINE}; border-radius: 8px; background: white; top: -1px; }}
QTabBar::tab {{ background: transparent; padding: 6px 10px; font-size: 13px; font-weight: 600;
               color: {MUTED}; border-bottom: 3px solid transparent; }}
QTabBar::tab:selected {{ color: {PRIMARY}; border-bottom: 3px solid {PRIMARY}; }}
QListWidget {{ border: none; background: white; font-size: 14px; outline: 0; }}
QListWidget::item {{ padding: {ROW_PADDING_Y}px 6px; border-bottom: {ROW_BORDER}px solid #EEF1F5; }}
QListWidget::item:selected {{ background: #E2ECF8; color: {INK}; }}
#rowNumber {{ font-size: 15px; font-weight: 800; }}
#rowNumber[priority="true"] {{ color: {PRIORITY}; }}
#rowText {{ font-size: 13px; }}
#rowText[mine="true"] {{ font-weight: 700; }}
#rowDetail {{ font-size: 12px; color: {MUTED}; }}
#serviceChip {{ background: #E8EEF7; border-radius: 6px; padding: 2px 8px; font-size: 12px; }}
#emptyNote {{ color: {MUTED}; font-size: 13px; padding: 10px; }}

#figures {{ background: white; border: 1px solid {LINE}; border-radius: 8px; }}
#figureValue {{ font-size: 20px; font-weight: 800; color: {PRIMARY}; }}
#figureLabel {{ font-size: 11px; color: {MUTED}; }}

#statusLine {{ font-size: 13px; padding: 4px 8px; border-radius: 6px; }}
#statusLine[kind="info"] {{ background: {SERVING_BG}; color: {SERVING}; }}
#statusLine[kind="error"], #statusLine[kind="offline"] {{ background: {DANGER_BG}; color: {DANGER}; }}

/* login and counter choice */
#loginBox {{ background: white; border: 1px solid {LINE}; border-radius: 14px; }}
#appTitle {{ font-size: 24px; font-weight: 800; color: {PRIMARY}; }}
#appSubtitle {{ font-size: 14px; color: {MUTED}; }}
#fieldLabel {{ font-size: 13px; font-weight: 600; color: {MUTED}; }}
QLineEdit {{ border: 1px solid #B8C2D1; border-radius: 8px; padding: 8px 10px; font-size: 16px;
            background: white; selection-background-color: {PRIMARY}; }}
QLineEdit:focus {{ border: 2px solid {PRIMARY}; padding: 7px 9px; }}
#errorText {{ color: {DANGER}; font-size: 14px; font-weight: 600; background: {DANGER_BG};
             border-radius: 6px; padding: 6px 8px; }}
#hintText {{ color: {MUTED}; font-size: 13px; }}
QPushButton#primaryButton {{ background: {PRIMARY}; color: white; border: none; border-radius: 8px;
                            min-height: 44px; font-size: 16px; font-weight: 700; padding: 0 16px; }}
QPushButton#primaryButton:hover {{ background: {PRIMARY_DARK}; }}
QPushButton#primaryButton:disabled {{ background: #9DB6D3; }}
QPushButton#dangerButton {{ background: {DANGER}; color: white; border: none; border-radius: 8px;
                           min-height: 44px; font-size: 16px; font-weight: 700; padding: 0 16px; }}
QPushButton#secondaryButton {{ background: white; color: {INK}; border: 1px solid #B8C2D1;
                              border-radius: 8px; min-height: 44px; font-size: 15px; padding: 0 16px; }}
QPushButton#secondaryButton:hover {{ border-color: {PRIMARY}; }}
QPushButton#choice {{ background: white; border: 1px solid #B8C2D1; border-radius: 10px;
                     min-height: 44px; padding: 4px 12px; text-align: left; font-size: 15px; }}
QPushButton#choice:hover {{ border-color: {PRIMARY}; }}
QPushButton#choice:checked {{ border: 2px solid {PRIMARY}; background: #E8F0FA; font-weight: 700; }}
QPushButton#choice:disabled {{ color: #A3ABB9; }}
QRadioButton {{ font-size: 14px; spacing: 8px; }}
#dialogTitle {{ font-size: 20px; font-weight: 800; }}
"""
