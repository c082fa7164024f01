"""A generated province: the provincial centre and ~100 commune centres.

``build_centre`` returns the configuration as TOML text (what the server process loads)
and a ``Population`` naming every device token and clerk the load generators connect as.
Issuing hours are 00:00-24:00 every day with no holidays, and the numbering has room for
9,999 tickets per service, so the benchmark never runs into closed hours or "hết số".

Passwords are hashed once and the hash is shared by every user. The benchmark's hash uses
scrypt's lowest accepted cost (n=2^10, ~2 ms) instead of the production cost (n=2^14,
~40 ms): a thousand clerks logging in would otherwise spend 20 s of both cores in the KDF
before anything is measured. Login cost is not one of the figures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

PASSWORD = "xephang-bench"
BENCH_SCRYPT_N = 2**10

PROVINCE_SERVICES = [
    ("TP", "Tư pháp, hộ tịch", "Justice, civil status", "Sở Tư pháp"),
    ("DN", "Đăng ký doanh nghiệp", "Business registration", "Sở Tài chính"),
    ("XD", "Xây dựng, nhà ở", "Building, housing", "Sở Xây dựng"),
    ("DD", "Đất đai, môi trường", "Land, environment", "Sở Nông nghiệp và Môi trường"),
    ("YT", "Y tế", "Health", "Sở Y tế"),
    ("CT", "Công thương", "Industry and trade", "Sở Công Thương"),
    ("LD", "Lao động, việc làm", "Labour, employment", "Sở Nội vụ"),
    ("GD", "Giáo dục", "Education", "Sở Giáo dục và Đào tạo"),
    ("VH", "Văn hóa, du lịch", "Culture, tourism", "Sở Văn hóa, Thể thao và Du lịch"),
    ("GPLX", "Giấy phép lái xe", "Driving licences", "Công an tỉnh"),
    ("BHXH", "Bảo hiểm xã hội", "Social insurance", "Bảo hiểm xã hội tỉnh"),
    ("THUE", "Thuế", "Taxes", "Thuế tỉnh"),
    ("DIEN", "Điện lực", "Electricity", "Công ty Điện lực"),
    ("KQ", "Trả kết quả", "Results pick-up", "Bưu điện tỉnh"),
]
COMMUNE_SERVICES = [
    ("HT", "Hộ tịch, chứng thực", "Civil status, certification", "UBND xã"),
    ("DD", "Đất đai, xây dựng", "Land, building", "UBND xã"),
    ("XH", "Lao động, chính sách xã hội", "Labour, social policy", "UBND xã"),
    ("KQ", "Trả kết quả", "Results pick-up", "UBND xã"),
]
LETTERS = "ABCDEGHKLMNPQRSTUVXY"


@dataclass(frozen=True)
class Scale:
    """How big the province is."""

    communes: int = 100
    province_counters: int = 58
    commune_counters: tuple[int, ...] = (6, 7, 8, 9, 10, 11, 12, 13)  # cycled; mean 9.5
    province_kiosks: int = 6
    commune_kiosks: int = 3
    communes_with_two_kiosks: int = 6  # small communes
    province_displays: int = 6
    # Communes with two displays (a hall board and a board upstairs); the rest have one.
    communes_with_two_displays: int = 44


PROVINCE = Scale()  # 1,000 counters, 300 kiosks, 150 displays in 101 sites
SMALL = Scale(communes=4, province_counters=6, commune_counters=(3, 4), province_kiosks=2,
              commune_kiosks=1, communes_with_two_kiosks=0, province_displays=1,
              communes_with_two_displays=1)


@dataclass
class SitePeople:
    code: str
    services: list[str]
    kiosks: list[str] = field(default_factory=list)  # device tokens
    displays: list[str] = field(default_factory=list)  # device tokens
    clerks: list[tuple[str, int]] = field(default_factory=list)  # (username, counter)


@dataclass
class Population:
    """Who may connect: per site, the device tokens and the clerks with their counters."""

    sites: list[SitePeople]
    manager: str
    password: str = PASSWORD

    def site(self, code: str) -> SitePeople:
        return next(s for s in self.sites if s.code == code)

    @property
    def counters(self) -> int:
        return sum(len(s.clerks) for s in self.sites)

    @property
    def kiosks(self) -> int:
        return sum(len(s.kiosks) for s in self.sites)

    @property
    def displays(self) -> int:
        return sum(len(s.displays) for s in self.sites)

    def to_json(self) -> dict[str, Any]:
        return {"manager": self.manager, "password": self.password, "sites": [
            {"code": s.code, "services": s.services, "kiosks": s.kiosks, "displays": s.displays,
             "clerks": [list(c) for c in s.clerks]} for s in self.sites]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Population:
        return cls(manager=data["manager"], password=data["password"], sites=[
            SitePeople(code=s["code"], services=s["services"], kiosks=s["kiosks"],
                       displays=s["displays"], clerks=[(u, n) for u, n in s["clerks"]])
            for s in data["sites"]])


def bench_password_hash(password: str = PASSWORD) -> str:
    """One scrypt hash in the server's stored form, at the lowest accepted cost."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=BENCH_SCRYPT_N, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${BENCH_SCRYPT_N}$8$1${b64(salt).decode()}${b64(digest).decode()}"


def _token() -> str:
    return secrets.token_urlsafe(18)


def _q(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def _services_toml(services: list[tuple[str, str, str, str]]) -> list[str]:
    lines = []
    for i, (code, vi, en, agency) in enumerate(services):
        lines += [
            "[[sites.services]]", f"code = {_q(code)}", f"name_vi = {_q(vi)}",
            f"name_en = {_q(en)}", f"agency = {_q(agency)}",
            f'numbering = {{ style = "prefix", prefix = "{LETTERS[i]}", digits = 4 }}', "",
        ]
    return lines


def build_centre(scale: Scale = PROVINCE, *, port: int, data_dir: str) -> tuple[str, Population]:
    """The configuration TOML and who may connect to it."""
    password_hash = bench_password_hash()
    lines = [
        'province = "Tỉnh Thử nghiệm"',
        'centre_name = "Trung tâm Phục vụ hành chính công tỉnh Thử nghiệm"',
        'timezone = "Asia/Ho_Chi_Minh"', "",
        "[server]", 'host = "127.0.0.1"', f"port = {port}",
        f'public_url = "http://127.0.0.1:{port}"', f"data_dir = {_q(data_dir)}",
        # Load generators: kiosks at machine pace, every client from one address.
        "kiosk_issues_per_minute = 100000", "kiosk_issue_burst = 100000",
        "max_public_connections_per_address = 100000", "",
        "[queue]", 'priority_rule = "interleave"', "normal_per_priority = 2",
        'pause_reasons = ["Nghỉ giải lao"]', "",
        "[[queue.priority_classes]]", 'code = "elderly"',
        'name_vi = "Người cao tuổi"', 'name_en = "Senior citizen"', "",
        "[[queue.outcomes]]", 'code = "received"', 'name_vi = "Tiếp nhận hồ sơ"',
        'name_en = "Dossier received"', "",
    ]
    for value, vi, en in ((3, "Hài lòng", "Satisfied"), (2, "Bình thường", "Neutral"),
                          (1, "Không hài lòng", "Dissatisfied")):
        lines += ["[[rating]]", f"value = {value}", f"name_vi = {_q(vi)}", f"name_en = {_q(en)}", ""]
    people: list[SitePeople] = []
    users: list[tuple[str, str, int]] = []
    for index in range(scale.communes + 1):
        provincial = index == 0
        code = "tinh" if provincial else f"xa{index:03d}"
        name = "Trung tâm tỉnh" if provincial else f"Trung tâm xã số {index}"
        services = PROVINCE_SERVICES if provincial else COMMUNE_SERVICES
        n_counters = (scale.province_counters if provincial
                      else scale.commune_counters[(index - 1) % len(scale.commune_counters)])
        services = services[:n_counters + 1]  # every service needs a counter
        n_kiosks = scale.province_kiosks if provincial else (
            scale.commune_kiosks - (index <= scale.communes_with_two_kiosks))
        n_displays = scale.province_displays if provincial else (
            2 if index <= scale.communes_with_two_displays else 1)
        site = SitePeople(code=code, services=[s[0] for s in services])
        lines += [
            "[[sites]]", f"code = {_q(code)}", f"name = {_q(name)}", "",
            "[sites.hours]", *[f'{d} = ["00:00-24:00"]' for d in
                                ("mon", "tue", "wed", "thu", "fri", "sat", "sun")], "",
            *_services_toml(services),
        ]
        for number in range(1, n_counters + 1):
            # Each counter serves its own service first and the next one as a second choice.
            first = services[(number - 1) % len(services)][0]
            second = services[number % len(services)][0]
            lines += ["[[sites.counters]]", f"number = {number}", f'name = "Quầy {number}"',
                      f"services = [{_q(first)}, {_q(second)}]", ""]
            username = f"{code}.q{number}"
            users.append((username, code, number))
            site.clerks.append((username, number))
        for k in range(1, n_kiosks + 1):
            token = _token()
            site.kiosks.append(token)
            lines += ["[[sites.kiosks]]", f'id = "{code}-kiosk-{k}"', f'name = "Kiosk {k}"',
                      f"token = {_q(token)}", ""]
        for d in range(1, n_displays + 1):
            token = _token()
            site.displays.append(token)
            lines += ["[[sites.displays]]", f'id = "{code}-tv-{d}"', f'name = "Màn hình {d}"',
                      f"token = {_q(token)}", ""]
        people.append(site)
    for username, code, number in users:
        lines += ["[[users]]", f"username = {_q(username)}", f'full_name = "Cán bộ {username}"',
                  'role = "clerk"', f"password_hash = {_q(password_hash)}",
                  f"sites = [{_q(code)}]", f"counters = [{number}]", ""]
    lines += ["[[users]]", 'username = "giamdoc"', 'full_name = "Giám đốc Trung tâm"',
              'role = "manager"', f"password_hash = {_q(password_hash)}", ""]
    return "\n".join(lines), Population(sites=people, manager="giamdoc")
