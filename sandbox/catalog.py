"""The sandbox catalog: countries, operators, services and prices, and how prices drift over time.

The catalog is created idempotently by `ensure_catalog()` on the first request (and by the
management commands). Live prices and stock are a deterministic function of the base price and
a time bucket (`SANDBOX_PRICE_BUCKET_SECONDS`, default 600), so charts see changes and every
process computes the same value; `SANDBOX_PRICE_DRIFT = False` pins them to the base values.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction

from sandbox.models import RUB, USD, Account, Country, Operator, Price, Service

# (id, rus, eng, chn, phone code, mobile prefixes, national length, retry, rent, multiService, operators, price factor)
COUNTRIES: list[tuple] = [
    (
        0,
        "Россия",
        "Russia",
        "俄罗斯",
        "7",
        ["9"],
        10,
        1,
        1,
        1,
        ["megafon", "mts", "beeline", "tele2", "rostelecom", "any"],
        "1.00",
    ),
    (
        1,
        "Украина",
        "Ukraine",
        "乌克兰",
        "380",
        ["50", "63", "66", "67", "68", "73", "93", "95", "96", "97"],
        9,
        1,
        1,
        1,
        ["kyivstar", "life", "utel", "mts", "vodafone"],
        "0.90",
    ),
    (
        2,
        "Казахстан",
        "Kazakhstan",
        "哈萨克斯坦",
        "7",
        ["70", "74", "77"],
        10,
        1,
        1,
        1,
        ["tele2", "beeline", "activ", "altel"],
        "0.80",
    ),
    (
        3,
        "Китай",
        "China",
        "中国",
        "86",
        ["13", "15", "18"],
        11,
        0,
        0,
        0,
        ["any", "chinamobile", "unicom"],
        "1.60",
    ),
    (4, "Филиппины", "Philippines", "菲律宾", "63", ["9"], 10, 1, 0, 1, ["any", "globe", "smart"], "0.50"),
    (
        6,
        "Индонезия",
        "Indonesia",
        "印度尼西亚",
        "62",
        ["81", "82", "85", "87"],
        11,
        1,
        1,
        1,
        ["any", "telkomsel", "indosat", "xl"],
        "0.40",
    ),
    (7, "Малайзия", "Malaysia", "马来西亚", "60", ["1"], 9, 1, 0, 1, ["any", "maxis", "celcom"], "0.70"),
    (
        10,
        "Вьетнам",
        "Vietnam",
        "越南",
        "84",
        ["3", "7", "9"],
        9,
        1,
        0,
        1,
        ["any", "viettel", "mobifone"],
        "0.50",
    ),
    (
        12,
        "США (виртуальные)",
        "USA (virtual)",
        "美国（虚拟）",
        "1",
        ["2", "3", "4", "5", "6", "7", "8", "9"],
        10,
        0,
        0,
        0,
        ["any", "tmobile"],
        "0.60",
    ),
    (15, "Польша", "Poland", "波兰", "48", ["5", "6", "7"], 9, 1, 1, 1, ["any", "orange", "play"], "1.40"),
    (
        16,
        "Великобритания",
        "United Kingdom",
        "英国",
        "44",
        ["7"],
        10,
        1,
        1,
        1,
        ["any", "ee", "vodafone", "o2"],
        "1.80",
    ),
    (
        22,
        "Индия",
        "India",
        "印度",
        "91",
        ["6", "7", "8", "9"],
        10,
        1,
        0,
        1,
        ["any", "airtel", "jio", "vi"],
        "0.45",
    ),
    (31, "ЮАР", "South Africa", "南非", "27", ["6", "7", "8"], 9, 1, 0, 0, ["any", "vodacom", "mtn"], "0.90"),
    (32, "Румыния", "Romania", "罗马尼亚", "40", ["7"], 9, 1, 0, 1, ["any", "orange", "vodafone"], "1.10"),
    (33, "Колумбия", "Colombia", "哥伦比亚", "57", ["3"], 10, 1, 0, 1, ["any", "claro", "movistar"], "0.70"),
    (
        36,
        "Канада",
        "Canada",
        "加拿大",
        "1",
        ["2", "4", "5", "6", "7", "9"],
        10,
        1,
        1,
        0,
        ["any", "rogers", "bell", "telus"],
        "1.70",
    ),
    (39, "Аргентина", "Argentina", "阿根廷", "54", ["9"], 11, 1, 0, 1, ["any", "claro", "personal"], "0.80"),
    (
        43,
        "Германия",
        "Germany",
        "德国",
        "49",
        ["15", "16", "17"],
        11,
        1,
        1,
        1,
        ["any", "telekom", "vodafone", "o2"],
        "2.00",
    ),
    (48, "Нидерланды", "Netherlands", "荷兰", "31", ["6"], 9, 1, 1, 1, ["any", "kpn", "vodafone"], "1.90"),
    (52, "Таиланд", "Thailand", "泰国", "66", ["6", "8", "9"], 9, 1, 0, 1, ["any", "ais", "dtac"], "0.60"),
    (54, "Мексика", "Mexico", "墨西哥", "52", ["1"], 10, 1, 0, 1, ["any", "telcel", "movistar"], "0.90"),
    (56, "Испания", "Spain", "西班牙", "34", ["6", "7"], 9, 1, 1, 1, ["any", "movistar", "orange"], "1.50"),
    (62, "Турция", "Turkey", "土耳其", "90", ["5"], 10, 1, 0, 1, ["any", "turkcell", "vodafone"], "1.20"),
    (
        73,
        "Бразилия",
        "Brazil",
        "巴西",
        "55",
        ["11", "21", "31"],
        11,
        1,
        0,
        1,
        ["any", "claro", "vivo", "tim"],
        "0.70",
    ),
    (78, "Франция", "France", "法国", "33", ["6", "7"], 9, 1, 1, 1, ["any", "orange", "sfr", "free"], "1.80"),
    (86, "Италия", "Italy", "意大利", "39", ["3"], 10, 1, 0, 1, ["any", "tim", "vodafone", "wind"], "1.50"),
    (
        187,
        "США",
        "USA",
        "美国",
        "1",
        ["2", "3", "4", "5", "6", "7", "8", "9"],
        10,
        1,
        1,
        0,
        ["any", "tmobile", "verizon", "att"],
        "2.20",
    ),
]

# (code, name, base cost in RUB for Russia, can be ordered with forwarding)
SERVICES: list[tuple[str, str, str, bool]] = [
    ("tg", "Telegram", "28.00", False),
    ("wa", "WhatsApp", "24.00", False),
    ("vk", "VKontakte", "18.00", True),
    ("ok", "Odnoklassniki", "9.00", True),
    ("go", "Google,youtube,Gmail", "12.00", False),
    ("fb", "facebook", "10.00", False),
    ("ig", "Instagram+Threads", "11.00", False),
    ("tw", "Twitter", "8.00", False),
    ("ds", "Discord", "7.00", False),
    ("mm", "Microsoft", "6.00", False),
    ("am", "Amazon", "9.50", False),
    ("ub", "Uber", "7.50", False),
    ("av", "avito", "14.00", True),
    ("ya", "Yandex", "11.00", True),
    ("ma", "Mail.ru", "6.00", True),
    ("vi", "Viber", "8.50", False),
    ("wb", "WeChat", "30.00", False),
    ("lf", "TikTok/Douyin", "9.00", False),
    ("oi", "Tinder", "15.00", False),
    ("ot", "Any other", "5.00", True),
]
RENT_ONLY_SERVICES = [("full", "Full rent")]

# Offered everywhere (the rest of the services in a country are picked deterministically).
CORE_SERVICES = {"tg", "wa", "go", "ot"}
# Countries where every service is on offer and forwarding exists.
HOME_COUNTRIES = {0, 1, 2}

USD_PER_RUB = Decimal("90")
CENT = Decimal("0.01")
MILLI = Decimal("0.0001")


def unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts (same on every process and run)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def seed_catalog() -> None:
    """Create every missing catalog row; existing rows are left alone (safe to run twice)."""
    with transaction.atomic():
        Service.objects.bulk_create(
            [Service(code=code, name=name) for code, name, _cost, _fwd in SERVICES]
            + [Service(code=code, name=name, rent_only=True) for code, name in RENT_ONLY_SERVICES],
            ignore_conflicts=True,
        )
        Country.objects.bulk_create(
            [
                Country(
                    id=cid,
                    rus=rus,
                    eng=eng,
                    chn=chn,
                    phone_code=code,
                    phone_prefixes=prefixes,
                    phone_length=length,
                    retry=bool(retry),
                    rent=bool(rent),
                    multi_service=bool(multi),
                )
                for cid, rus, eng, chn, code, prefixes, length, retry, rent, multi, _ops, _f in COUNTRIES
            ],
            ignore_conflicts=True,
        )
        Operator.objects.bulk_create(
            [Operator(country_id=row[0], name=name) for row in COUNTRIES for name in row[10]],
            ignore_conflicts=True,
        )
        Price.objects.bulk_create(list(_base_prices()), ignore_conflicts=True)


def _base_prices():
    for cid, *_rest, factor in COUNTRIES:
        for code, _name, cost, forwardable in SERVICES:
            offered = cid in HOME_COUNTRIES or code in CORE_SERVICES or unit("offer", cid, code) < 0.55
            if not offered:
                continue
            base = (
                Decimal(cost) * Decimal(factor) * Decimal(str(0.8 + 0.4 * unit("cost", cid, code)))
            ).quantize(CENT)
            count = int(200 + 40000 * unit("count", cid, code) ** 2)
            verification = (
                code in {"tg", "wa", "go", "vk"} and cid in HOME_COUNTRIES or unit("call", cid, code) < 0.15
            )
            yield Price(
                country_id=cid,
                service_id=code,
                forward=False,
                base_cost=base,
                base_count=count,
                verification=verification,
            )
            if forwardable and cid == 0:
                yield Price(
                    country_id=cid,
                    service_id=code,
                    forward=True,
                    base_cost=(base * 2).quantize(CENT),
                    base_count=count // 10 + 5,
                )


_seeded_marker = "ot"


def ensure_catalog() -> None:
    """Seed the catalog when it is missing (cheap check: one indexed query)."""
    if not Service.objects.filter(code=_seeded_marker).exists():
        seed_catalog()


@dataclass(frozen=True)
class LivePrice:
    """The price of an offer at one moment, in RUB."""

    cost: Decimal
    count: int
    retail: Decimal

    def free_price_map(self) -> dict[str, int]:
        """Stock split over two price steps, like the Free Price map of the real provider."""
        higher = (self.cost * Decimal("1.2")).quantize(CENT)
        cheap = int(self.count * 0.85)
        return {f"{self.cost:.2f}": cheap, f"{higher:.2f}": self.count - cheap} if self.count else {}


def _bucket(now: datetime) -> int:
    seconds = int(getattr(settings, "SANDBOX_PRICE_BUCKET_SECONDS", 600))
    return int(now.timestamp()) // max(seconds, 1)


def live_price(price: Price, now: datetime, account: Account | None = None) -> LivePrice:
    """The drifted price and stock of an offer at `now` (a pure function of the row and the time), with no
    stock for a service the `account` is out of (`Account.sold_out`)."""
    live = _drifted(price, now)
    if account is not None and not account.sells(price.service_id):
        return LivePrice(live.cost, 0, live.retail)
    return live


def _drifted(price: Price, now: datetime) -> LivePrice:
    if not getattr(settings, "SANDBOX_PRICE_DRIFT", True):
        return LivePrice(price.base_cost, price.base_count, (price.base_cost * 2).quantize(CENT))
    bucket = _bucket(now)
    key = (price.country_id, price.service_id, int(price.forward))
    # A slow wave plus a little noise per bucket: moves visibly, stays near the base price.
    wave = math.sin(bucket / 6 + unit("phase", *key) * 6.28)
    factor = Decimal(str(round(1 + 0.12 * wave + 0.04 * (unit("noise", *key, bucket) - 0.5), 4)))
    cost = max((price.base_cost * factor).quantize(CENT), CENT)
    count = int(price.base_count * (0.6 + 0.8 * unit("stock", *key, bucket))) if price.base_count else 0
    return LivePrice(cost, count, (cost * 2).quantize(CENT))


def convert(amount_rub: Decimal, currency: int) -> Decimal:
    """A RUB catalog amount in the account's currency (USD accounts see prices / 90)."""
    if currency == USD:
        return max((amount_rub / USD_PER_RUB).quantize(MILLI, rounding=ROUND_HALF_UP), MILLI)
    return amount_rub.quantize(CENT) if currency == RUB else amount_rub


def rent_cost_rub(price: Price | None, service_code: str, country: Country, hours: int) -> Decimal:
    """Rent price: a 4-hour base from the activation price (full rent is dearer), sublinear in hours."""
    factor = Decimal(next((row[11] for row in COUNTRIES if row[0] == country.id), "1.00"))
    base4 = (
        Decimal("60") * factor
        if service_code == "full"
        else price.base_cost * Decimal("1.5")
        if price
        else Decimal("20")
    )
    scale = Decimal(str(round((hours / 4) ** 0.8, 4)))
    return max((base4 * scale).quantize(CENT), CENT)


def rent_stock(service_code: str, country_id: int) -> int:
    return 5 + int(60 * unit("rent", country_id, service_code))
