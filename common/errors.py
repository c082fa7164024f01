"""Stable error codes with their Vietnamese and English messages, defined once.

The rules raise ``Rejected(code, **params)``; the server turns it into an ``error`` reply;
clients show ``message_vi`` (or ``message_en``). Codes never change meaning.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # Protocol and access
    "bad_message": ("Thông điệp không hợp lệ: {detail}", "Malformed message: {detail}"),
    "unknown_type": ("Loại thông điệp không được hỗ trợ: {detail}", "Unknown message type: {detail}"),
    "unsupported_version": (
        "Phiên bản giao thức không được hỗ trợ", "Unsupported protocol version"),
    "too_large": ("Thông điệp quá lớn", "Message too large"),
    "not_authenticated": ("Chưa đăng nhập", "Not logged in"),
    "already_authenticated": ("Đã đăng nhập rồi", "Already logged in"),
    "forbidden": ("Không có quyền thực hiện thao tác này", "Not allowed for this role"),
    "bad_credentials": ("Sai tên đăng nhập hoặc mật khẩu", "Wrong username or password"),
    "bad_token": ("Mã thiết bị không hợp lệ hoặc đã bị thu hồi", "Unknown or revoked device token"),
    "throttled": (
        "Đăng nhập sai quá nhiều lần, vui lòng thử lại sau {seconds} giây",
        "Too many failed logins; try again in {seconds} s"),
    "rate_limited": ("Gửi quá nhiều yêu cầu", "Too many requests"),
    "login_busy": (
        "Máy chủ đang bận kiểm tra đăng nhập, vui lòng thử lại sau {seconds} giây",
        "The server is busy checking logins; try again in {seconds} s"),
    "public_endpoint": (
        "Địa chỉ này chỉ dùng để theo dõi số thứ tự; hãy đăng nhập từ mạng nội bộ của trung tâm",
        "This address only follows tickets; log in from the centre's own network"),
    "issuing_too_fast": (
        "Vui lòng chờ giây lát rồi lấy số tiếp",
        "Please wait a moment before taking another number"),
    "counter_not_allowed": (
        "Bạn không được phân công quầy {counter}", "You are not assigned to counter {counter}"),
    "no_counter_selected": ("Chưa chọn quầy", "No counter selected"),
    "internal": ("Lỗi hệ thống, vui lòng thử lại", "Internal error; please retry"),
    # Issuing
    "unknown_site": ("Không có điểm phục vụ {site}", "Unknown site {site}"),
    "unknown_service": ("Không có dịch vụ {service}", "Unknown service {service}"),
    "unknown_priority": ("Không có đối tượng ưu tiên {priority}", "Unknown priority class {priority}"),
    "holiday": ("Hôm nay là ngày nghỉ", "Closed today (holiday)"),
    "service_closed": (
        "Ngoài giờ cấp số. Mở lại lúc {next_open}", "Outside issuing hours. Opens {next_open}"),
    "daily_cap_reached": (
        "Đã hết số hôm nay cho dịch vụ này", "No more numbers today for this service"),
    # Counters and tickets
    "unknown_counter": ("Không có quầy số {counter}", "No counter {counter}"),
    "counter_taken": (
        "Quầy {counter} đang được {clerk} sử dụng", "Counter {counter} is in use by {clerk}"),
    "counter_not_held": (
        "Quầy {counter} đã được {clerk} mở; bạn không còn thao tác được ở quầy này",
        "Counter {counter} was opened by {clerk}; you can no longer act at it"),
    "counter_not_open": ("Quầy {counter} chưa mở", "Counter {counter} is not open"),
    "counter_busy": (
        "Quầy đang phục vụ số {number}; hãy kết thúc trước",
        "Counter is serving {number}; finish it first"),
    "no_active_ticket": ("Quầy chưa gọi số nào", "The counter has no active ticket"),
    "queue_empty": ("Không còn ai đang chờ", "Nobody is waiting"),
    "ticket_not_found": ("Không tìm thấy số {number} hôm nay", "No ticket {number} today"),
    "ticket_not_callable": (
        "Không thể gọi số {number} ({state})", "Ticket {number} cannot be called ({state})"),
    "not_served_here": (
        "Quầy này không phục vụ số {number}", "This counter does not serve ticket {number}"),
    "late_window_passed": (
        "Số {number} đã quá thời gian chờ quay lại", "Ticket {number} is past its late-arrival window"),
    "invalid_state": (
        "Số {number} đang ở trạng thái {state}", "Ticket {number} is {state}"),
    "invalid_outcome": ("Kết quả không hợp lệ: {outcome}", "Unknown outcome {outcome}"),
    "invalid_transfer": ("Chuyển không hợp lệ: {detail}", "Invalid transfer: {detail}"),
    "invalid_rating": ("Mức đánh giá không hợp lệ", "Invalid rating value"),
    "already_rated": ("Số này đã được đánh giá", "This ticket has already been rated"),
    "not_rateable": ("Chỉ đánh giá sau khi được phục vụ", "Only a served ticket can be rated"),
    "invalid_reason": ("Vui lòng nhập lý do", "A reason is required"),
}


class Rejected(Exception):
    """A command refused for a reason the user can be told, by a stable code."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in MESSAGES:
            raise KeyError(f"unknown error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(self.message_en)

    @property
    def message_vi(self) -> str:
        return MESSAGES[self.code][0].format_map(_Defaults(self.params))

    @property
    def message_en(self) -> str:
        return MESSAGES[self.code][1].format_map(_Defaults(self.params))


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "?"
