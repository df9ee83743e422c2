"""Demo data and benchmark-scale synthetic data.

``seed_demo`` builds a small, realistic customer-service department of a Chinese logistics company
(teams, staff in every role, ~500 customers with contacts, notes and portal logins) through the
ordinary services, so groups, permissions, account-agent assignment and the audit log are exactly what
real use produces. ``seed_bulk`` writes N synthetic customers straight to the tables with
``bulk_create`` for benchmarks: it is fast, valid (E.164 mobiles, real segments, unique customer
numbers), but writes **no audit rows** and does not go through the account-agent ranking.

Both are deterministic for a given seed (``random.Random(seed)`` and a seeded ``Faker('zh_CN')``);
only ids, public ids, password salts and timestamps differ between runs. E-mail addresses use
``example.com`` domains so that demo data can never mail a real person.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from kefu.accounts.enums import STAFF_ROLES, Availability, Role
from kefu.accounts.models import Skill, Team, User
from kefu.accounts.services import team_add_member, user_create, user_set_availability
from kefu.core import reference
from kefu.core.ids import new_public_id
from kefu.core.phones import reversed_digits
from kefu.core.sequences import next_values
from kefu.customers.enums import ContactChannel, CustomerKind, CustomerSource, Tier
from kefu.customers.models import Contact, Customer, Segment
from kefu.customers.services import (
    CUSTOMER_NO_PREFIX,
    ContactData,
    customer_create,
    customer_mark_contacted,
    customer_note_add,
    first_contact_due,
    portal_account_create,
)
from kefu.tickets.models import Category, CustomField, Message, Status, Tag, Ticket, TicketWaybill

DEMO_PASSWORD = "kefu-demo-2026"
DEMO_CUSTOMERS = 500
DEMO_TICKETS = 2000  # of which DEMO_LIVE_TICKETS through the services (audited), the rest bulk history
DEMO_LIVE_TICKETS = 200

# --- reference tables ------------------------------------------------------------------------------

# (code, name, name_en, description, skill codes)
TEAMS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    (
        "inquiry",
        "咨询受理组",
        "Inquiry desk",
        "受理电话、在线客服、邮件与短信咨询：运价、时效、保价、查件与预计到达时间；在线咨询 3 分钟内响应。",
        ("english", "cross-border"),
    ),
    (
        "complaints",
        "投诉受理组",
        "Complaint desk",
        "受理投诉与建议，即时登记并承诺回电时间，转责任部门处理并跟进闭环，24 小时内首次答复。",
        ("key-account", "claims"),
    ),
    (
        "follow-up",
        "回访调查组",
        "Follow-up & survey team",
        "新客户首次联系、投诉处理后回访与满意度调查，整理回访记录表并按月出具回访总结报告。",
        ("key-account", "english"),
    ),
    (
        "after-sales",
        "售后服务组",
        "After-sales team",
        "处理运输异常（延误、货损、丢件）、签收争议、路由变更与退换货，异常 2 小时内给出处理方案。",
        ("cold-chain", "dangerous-goods"),
    ),
    (
        "claims",
        "理赔组",
        "Claims team",
        "审核理赔材料、出具责任认定报告；责任明确且金额 5000 元以下的理赔先行赔付、事后追偿。",
        ("claims",),
    ),
    (
        "key-accounts",
        "大客户服务组",
        "Key-account team",
        "VIP 与核心客户专属队列：优先受理、专人对接，月度对账、回单汇总与业务回顾。",
        ("key-account", "cold-chain", "cross-border"),
    ),
]

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
]  # fmt: skip
GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("晓燕", "xiaoyan"), ("思远", "siyuan"),
    ("子涵", "zihan"), ("欣怡", "xinyi"), ("浩然", "haoran"), ("雨轩", "yuxuan"), ("佳怡", "jiayi"),
    ("俊杰", "junjie"), ("文博", "wenbo"), ("嘉欣", "jiaxin"), ("志强", "zhiqiang"), ("海燕", "haiyan"),
    ("建华", "jianhua"), ("婷婷", "tingting"), ("宇航", "yuhang"), ("梦琪", "mengqi"), ("国庆", "guoqing"),
]  # fmt: skip

# (province, city, districts)
LOCATIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("上海市", "上海市", ("浦东新区", "闵行区", "嘉定区", "青浦区", "松江区", "宝山区")),
    ("北京市", "北京市", ("朝阳区", "大兴区", "顺义区", "通州区", "海淀区")),
    ("天津市", "天津市", ("滨海新区", "东丽区", "西青区", "武清区")),
    ("重庆市", "重庆市", ("渝北区", "沙坪坝区", "九龙坡区", "江北区")),
    ("广东省", "广州市", ("白云区", "黄埔区", "番禺区", "花都区")),
    ("广东省", "深圳市", ("宝安区", "龙岗区", "南山区", "龙华区")),
    ("广东省", "东莞市", ("松山湖", "长安镇", "虎门镇", "塘厦镇")),
    ("广东省", "佛山市", ("顺德区", "南海区", "禅城区")),
    ("江苏省", "苏州市", ("工业园区", "吴中区", "相城区", "昆山市")),
    ("江苏省", "南京市", ("江宁区", "栖霞区", "浦口区")),
    ("江苏省", "无锡市", ("新吴区", "惠山区", "滨湖区")),
    ("浙江省", "杭州市", ("萧山区", "余杭区", "滨江区", "钱塘区")),
    ("浙江省", "宁波市", ("北仑区", "鄞州区", "镇海区")),
    ("浙江省", "金华市", ("义乌市", "婺城区", "金东区")),
    ("山东省", "青岛市", ("黄岛区", "城阳区", "即墨区")),
    ("山东省", "济南市", ("历城区", "槐荫区", "章丘区")),
    ("四川省", "成都市", ("双流区", "新都区", "龙泉驿区", "郫都区")),
    ("湖北省", "武汉市", ("东西湖区", "江夏区", "汉阳区", "东湖高新区")),
    ("河南省", "郑州市", ("航空港区", "管城回族区", "中牟县")),
    ("福建省", "厦门市", ("湖里区", "海沧区", "集美区")),
    ("陕西省", "西安市", ("未央区", "灞桥区", "雁塔区")),
    ("湖南省", "长沙市", ("雨花区", "望城区", "长沙县")),
    ("安徽省", "合肥市", ("蜀山区", "包河区", "肥西县")),
    ("辽宁省", "大连市", ("甘井子区", "金州区", "保税区")),
]
ROADS = [
    "长江路", "黄河路", "人民路", "建设路", "中山路", "解放路", "工业大道", "物流园路", "创业路", "科技路",
    "迎宾大道", "港城路", "新华路", "振兴路", "滨海大道", "通港路", "银杏路", "湖滨路", "金桥路", "兴业路",
]  # fmt: skip
BRANDS = [
    ("恒达", "hengda"), ("鑫源", "xinyuan"), ("华通", "huatong"), ("瑞丰", "ruifeng"), ("宏远", "hongyuan"),
    ("金桥", "jinqiao"), ("中联", "zhonglian"), ("安达", "anda"), ("聚鑫", "juxin"), ("捷运", "jieyun"),
    ("天成", "tiancheng"), ("博远", "boyuan"), ("盛达", "shengda"), ("汇通", "huitong"), ("永泰", "yongtai"),
    ("新海", "xinhai"), ("锦程", "jincheng"), ("嘉禾", "jiahe"), ("远航", "yuanhang"), ("凯瑞", "kairui"),
    ("海纳", "haina"), ("同创", "tongchuang"), ("亿丰", "yifeng"), ("万象", "wanxiang"), ("启航", "qihang"),
    ("富康", "fukang"), ("百川", "baichuan"), ("昌盛", "changsheng"), ("广源", "guangyuan"), ("众诚", "zhongcheng"),
    ("嘉诚", "jiacheng"), ("明阳", "mingyang"), ("泰和", "taihe"), ("长青", "changqing"), ("华瑞", "huarui"),
    ("优选", "youxuan"), ("星辰", "xingchen"), ("润泽", "runze"), ("德信", "dexin"), ("佳美", "jiamei"),
]  # fmt: skip
# segment code → (business words, typical contact titles)
INDUSTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cold-chain": (("冷链物流", "生鲜供应链", "冷冻食品", "水产食品"), ("物流经理", "冷库主管", "品控专员")),
    "cross-border": (
        ("跨境优选电子商务", "国际货运代理", "跨境供应链管理", "进出口贸易"),
        ("关务专员", "物流经理", "跨境运营"),
    ),
    "ecommerce": (("电子商务", "网络科技", "优品电商"), ("电商运营", "仓储主管", "客服主管")),
    "hazmat": (("化工", "精细化工", "涂料", "新能源材料"), ("安全主管", "物流经理", "储运主管")),
    "manufacturing": (
        ("机械制造", "电子科技", "汽车零部件", "精密模具", "新材料"),
        ("采购主管", "物流经理", "生产计划"),
    ),
    "retail": (("商贸", "百货", "连锁超市", "家居用品"), ("采购经理", "门店运营", "配送主管")),
    "pharma": (("医药", "生物科技", "医疗器械", "药业"), ("质量经理", "物流经理", "GSP 专员")),
}
COMPANY_SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
SEGMENT_PAIRS = {  # a second segment that often goes with the first
    "cold-chain": "pharma",
    "pharma": "cold-chain",
    "cross-border": "ecommerce",
    "ecommerce": "cross-border",
    "hazmat": "manufacturing",
    "manufacturing": "cross-border",
    "retail": "ecommerce",
}
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "199",
]  # fmt: skip
QUIET_HOURS = [
    (dt.time(22, 0), dt.time(8, 0)),
    (dt.time(21, 30), dt.time(8, 30)),
    (dt.time(23, 0), dt.time(7, 30)),
    (dt.time(12, 0), dt.time(13, 30)),
]
CHANNEL_WEIGHTS = [
    (ContactChannel.PHONE, 40),
    (ContactChannel.WECHAT, 30),
    (ContactChannel.EMAIL, 15),
    (ContactChannel.SMS, 10),
    (ContactChannel.CHAT, 5),
]
NOTES = [
    "客户要求每周一上午发送上周签收回单汇总（电子回单 PDF）。",
    "冷链货物需全程温控记录，到货时附温度曲线；超温须立即电话通知物流经理。",
    "双 11 大促期间预计发货量为平日 3 倍，已与运营部确认加开干线班次。",
    "上月货损理赔已先行赔付 3200 元，客户对处理时效表示满意。",
    "财务对账联系人已变更，月结账期 30 天，发票抬头见合同附件。",
    "危险品货物须提供 MSDS，已存档；下次询价请先确认 UN 编号与包装等级。",
    "客户反映华南线路时效不稳定，已提交周度联合复盘会议。",
    "仅接受工作日 9:00–18:00 来电，其余时间请发邮件。",
    "客户有意增加跨境专线（深圳—洛杉矶），请大客户服务组跟进报价。",
    "收货仓库地址变更，新地址已更新；旧地址 3 月底前仍可签收。",
    "投诉处理后回访：客户对上门取件时间承诺执行情况满意度为“满意”。",
    "VIP 客户，重要异常须 30 分钟内电话告知并同步书面处理进度。",
]


@dataclass(frozen=True)
class StaffSpec:
    role: Role
    team: str | None
    is_lead: bool = False


# One login per role, in the order ``kefu demo`` prints them.
_LOGIN_ROLES = ("agent", "lead", "manager", "qa", "analyst", "admin", "customer-portal")


# --- small generators ------------------------------------------------------------------------------


def _mobile(rng: random.Random) -> str:
    """A valid Chinese mobile number in E.164 (``+8613812345678``)."""
    return f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def _person(rng: random.Random) -> tuple[str, str]:
    """(Chinese full name, pinyin) from the curated tables: fast and romanizable."""
    surname, surname_py = rng.choice(SURNAMES)
    given, given_py = rng.choice(GIVEN_NAMES)
    return surname + given, surname_py + given_py


def _wechat(rng: random.Random, fake: Faker, kind: str, romanized: str) -> str:
    if kind == CustomerKind.CONSUMER:
        return "wxid_" + fake.pystr_format("??????????????", letters="abcdefghijklmnopqrstuvwxyz0123456789")
    return f"{romanized}{rng.randint(10, 9999)}"


def _address(rng: random.Random, province: str, city: str, districts: tuple[str, ...]) -> str:
    prefix = province if province == city else province + city
    building = f"{rng.randint(1, 12)}号楼" if rng.random() < 0.8 else f"{rng.choice('ABCDE')}座"
    room = f"{rng.randint(1, 28)}{rng.randint(1, 12):02d}室"
    return f"{prefix}{rng.choice(districts)}{rng.choice(ROADS)}{rng.randint(1, 999)}号{building}{room}"


def _tier(rng: random.Random) -> str:
    roll = rng.random()
    return Tier.VIP if roll < 0.05 else Tier.CORE if roll < 0.25 else Tier.STANDARD


def _channel(rng: random.Random) -> str:
    channels, weights = zip(*CHANNEL_WEIGHTS, strict=True)
    return str(rng.choices(channels, weights)[0])


def _company(rng: random.Random, city: str, segment: str) -> tuple[str, str]:
    brand, brand_py = rng.choice(BRANDS)
    words, _ = INDUSTRIES[segment]
    return f"{city.removesuffix('市')}{brand}{rng.choice(words)}{rng.choice(COMPANY_SUFFIXES)}", brand_py


# --- the demo --------------------------------------------------------------------------------------


def _staff_plan() -> list[StaffSpec]:
    plan = [StaffSpec(Role.ADMIN, None), StaffSpec(Role.MANAGER, None)]
    plan += [StaffSpec(Role.QA, None)] * 2 + [StaffSpec(Role.ANALYST, None)] * 2
    for code, *_ in TEAMS:
        plan.append(StaffSpec(Role.LEAD, code, is_lead=True))
    agents_per_team = {
        "inquiry": 4,
        "complaints": 3,
        "follow-up": 3,
        "after-sales": 3,
        "claims": 2,
        "key-accounts": 3,
    }
    for code, count in agents_per_team.items():
        plan += [StaffSpec(Role.AGENT, code)] * count
    return plan


def _demo_usernames(seed: int) -> dict[str, str]:
    """The username of the first staff member of each role, and the demo portal login."""
    rng = random.Random(seed)
    names = _staff_names(rng, len(_staff_plan()))
    first: dict[str, str] = {}
    for spec, (_, username) in zip(_staff_plan(), names, strict=True):
        first.setdefault(str(spec.role), username)
    first["customer-portal"] = "kehu.demo"
    return first


def _staff_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct (full name, username) pairs; usernames are pinyin (``wangfang``)."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < count:
        name, username = _person(rng)
        if username in seen:
            continue
        seen.add(username)
        out.append((name, username))
    return out


def demo_logins(seed: int = 20261125) -> list[tuple[str, str]]:
    """(role, username): one demo login per role, each signing in with :data:`DEMO_PASSWORD`.

    When the demo is in the database, the logins are read from it (it may have been seeded with another
    seed): per role, the staff member with the lowest employee number.
    """
    logins = _demo_usernames(seed)
    if demo_exists():
        for role in STAFF_ROLES:
            user = (
                User.objects.filter(role=role, employee_no__startswith="KF").order_by("employee_no").first()
            )
            if user is not None:
                logins[str(role)] = user.username
    return [(role, logins[role]) for role in _LOGIN_ROLES]


def demo_exists() -> bool:
    return Team.objects.filter(code__in=[code for code, *_ in TEAMS]).exists()


@transaction.atomic
def seed_demo(*, seed: int) -> bool:
    """Create the demo department and its customers; False (and nothing done) if the demo exists."""
    if demo_exists():
        return False
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    staff = _seed_staff(rng)
    customers = _seed_customers(rng, fake, staff)
    _seed_follow_through(rng, staff, customers)
    _seed_portal(rng, staff, customers)
    _seed_demo_tickets(rng, seed, staff, customers)
    return True


# The teams' responsibilities for English pages (TEAMS has the Chinese ones).
TEAM_DESCRIPTIONS_EN = {
    "inquiry": "Phone, online chat, e-mail and SMS enquiries: rates, transit times, insurance, tracking and "
    "estimated arrival; online enquiries answered within 3 minutes.",
    "complaints": "Takes complaints and suggestions, logs them at once with a promised call-back time, hands "
    "them to the responsible department and follows them to closure; first answer within 24 hours.",
    "follow-up": "First contact with new customers, follow-up calls after complaints and satisfaction "
    "surveys; keeps the follow-up log and writes the monthly follow-up report.",
    "after-sales": "Transport exceptions (delays, damage, losses), signing disputes, route changes and "
    "returns; a plan for every exception within 2 hours.",
    "claims": "Reviews claim documents and issues liability reports; clear-liability claims under "
    "5,000 yuan are paid first and recovered afterwards.",
    "key-accounts": "Dedicated queue for VIP and core customers: priority handling, a named contact, monthly "
    "statements, proof-of-delivery summaries and business reviews.",
}


def _seed_staff(rng: random.Random) -> dict[str, Any]:
    skills = {s.code: s for s in Skill.objects.all()}
    teams: dict[str, Team] = {}
    for code, name, name_en, description, skill_codes in TEAMS:
        team = Team.objects.create(
            name=name,
            name_en=name_en,
            code=code,
            description=description,
            description_en=TEAM_DESCRIPTIONS_EN.get(code, ""),
        )
        team.skills.set([skills[c] for c in skill_codes if c in skills])
        teams[code] = team
    for category_code, team_code in TEAM_FOR_CATEGORY.items():
        Category.objects.filter(code=category_code, default_team=None).update(default_team=teams[team_code])
    reference.changed()  # update() sends no signal
    plan = _staff_plan()
    names = _staff_names(rng, len(plan))
    numbers = sorted(rng.sample(range(1, 300), len(plan)))
    password = make_password(DEMO_PASSWORD)  # hashed once: PBKDF2 per user would cost seconds
    users: list[User] = []
    admin: User | None = None
    for number, spec, (full_name, username) in zip(numbers, plan, names, strict=True):
        user_skills: list[Skill] = []
        if spec.team is not None:
            team_skills = [c for c in next(t[4] for t in TEAMS if t[0] == spec.team) if c in skills]
            extra = rng.sample(sorted(skills), rng.randint(0, 1))
            user_skills = [
                skills[c] for c in sorted({*rng.sample(team_skills, min(len(team_skills), 2)), *extra})
            ]
        user = user_create(
            actor=admin,
            username=username,
            password=None,
            role=spec.role,
            full_name=full_name,
            email=f"{username}@kefu.example.com",
            employee_no=f"KF{number:04d}",
            phone=_mobile(rng),
            capacity=rng.choice((5, 6, 8)) if spec.role == Role.AGENT else 5,
            skills=user_skills,
        )
        if spec.role == Role.ADMIN:
            admin = user
        if spec.team is not None:
            team_add_member(actor=admin, team=teams[spec.team], user=user, is_lead=spec.is_lead)
        roll = rng.random()
        if roll < 0.45:
            user_set_availability(actor=user, user=user, availability=Availability.ONLINE)
        elif roll < 0.65:
            user_set_availability(actor=user, user=user, availability=Availability.AWAY)
        users.append(user)
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=password)
    # The manager and the QA reviewers sit with the teams they oversee, as plain members.
    manager = next(u for u in users if u.role == Role.MANAGER)
    for team in teams.values():
        team_add_member(actor=admin, team=team, user=manager)
    return {"users": users, "teams": teams, "admin": admin}


def _contacts(
    rng: random.Random, fake: Faker, *, kind: str, name: str, segment: str | None, domain: str
) -> list[ContactData]:
    contacts: list[ContactData] = []
    count = 1 if kind == CustomerKind.CONSUMER else rng.choices((1, 2, 3), (45, 35, 20))[0]
    titles = INDUSTRIES[segment][1] if segment else ("",)
    used: set[str] = set()
    for index in range(count):
        if kind == CustomerKind.CONSUMER:  # QQ-style mailbox and a wxid_ WeChat id
            person, romanized = name, str(fake.random_int(10**7, 10**10))
        else:
            person, romanized = _person(rng)
            while person in used:
                person, romanized = _person(rng)
        used.add(person)
        channel = _channel(rng)
        quiet = rng.choice(QUIET_HOURS) if rng.random() < 0.25 else (None, None)
        contacts.append(
            ContactData(
                name=person,
                title="" if kind == CustomerKind.CONSUMER else rng.choice(titles),
                phone=_mobile(rng),
                email=f"{romanized}@{domain}"
                if channel == ContactChannel.EMAIL or rng.random() < 0.6
                else "",
                wechat_id=_wechat(rng, fake, kind, romanized)
                if channel == ContactChannel.WECHAT or rng.random() < 0.5
                else "",
                preferred_channel=channel,
                quiet_hours_start=quiet[0],
                quiet_hours_end=quiet[1],
                is_primary=index == 0,
            )
        )
    return contacts


def _seed_customers(rng: random.Random, fake: Faker, staff: dict[str, Any]) -> list[Customer]:
    creators = [u for u in staff["users"] if u.role in (Role.AGENT, Role.LEAD)]
    segment_codes = sorted(INDUSTRIES)
    names: set[str] = set()
    customers: list[Customer] = []
    for _ in range(DEMO_CUSTOMERS):
        tier = _tier(rng)
        is_org = tier == Tier.VIP or rng.random() < (0.9 if tier == Tier.CORE else 0.7)
        province, city, districts = rng.choice(LOCATIONS)
        if is_org:
            segment = rng.choice(segment_codes)
            name, brand_py = _company(rng, city, segment)
            while name in names:
                name, brand_py = _company(rng, city, segment)
            segments = [segment] + ([SEGMENT_PAIRS[segment]] if rng.random() < 0.3 else [])
            kind, domain = CustomerKind.ORGANIZATION, f"{brand_py}.example.com"
        else:
            segment = None
            name = fake.name()
            segments = [rng.choice(("ecommerce", "retail"))] if rng.random() < 0.5 else []
            kind, domain = CustomerKind.CONSUMER, "mail.example.com"
        names.add(name)
        customers.append(
            customer_create(
                actor=rng.choice(creators),
                name=name,
                kind=kind,
                tier=tier,
                segments=segments,
                province=province,
                city=city,
                address=_address(rng, province, city, districts),
                contacts=_contacts(rng, fake, kind=kind, name=name, segment=segment, domain=domain),
                source=rng.choices(
                    (CustomerSource.MANUAL, CustomerSource.IMPORT, CustomerSource.API, CustomerSource.PORTAL),
                    (55, 30, 10, 5),
                )[0],
            )
        )
    return customers


def _seed_follow_through(rng: random.Random, staff: dict[str, Any], customers: list[Customer]) -> None:
    """~60% of first contacts made, ~10% overdue (deadline already passed), the rest pending; notes."""
    now = timezone.now()
    overdue: list[tuple[int, dt.datetime]] = []
    for customer in customers:
        if customer.account_agent is None:
            continue
        roll = rng.random()
        if roll < 0.6:
            customer_mark_contacted(actor=customer.account_agent, customer=customer)
        elif roll < 0.7:
            overdue.append(
                (customer.pk, now - dt.timedelta(days=rng.randint(8, 20), hours=rng.randint(0, 23)))
            )
    for pk, assigned in overdue:  # the deadline is computed from the assignment: both move back
        Customer.objects.filter(pk=pk).update(
            account_assigned_at=assigned, first_contact_due_at=first_contact_due(assigned)
        )
    for customer in rng.sample(customers, 40):
        author = customer.account_agent or staff["admin"]
        customer_note_add(actor=author, customer=customer, body=rng.choice(NOTES))


def _seed_portal(rng: random.Random, staff: dict[str, Any], customers: list[Customer]) -> None:
    """Portal logins for a few organizations; the first is the demo customer login."""
    orgs = [c for c in customers if c.kind == CustomerKind.ORGANIZATION]
    first = next(c for c in orgs if c.tier == Tier.VIP)
    chosen = [first, *rng.sample([c for c in orgs if c.pk != first.pk], 3)]
    password = make_password(DEMO_PASSWORD)
    for index, customer in enumerate(chosen):
        contact = customer.contacts.order_by("-is_primary", "id").first()
        account = portal_account_create(
            actor=staff["admin"],
            customer=customer,
            username="kehu.demo" if index == 0 else f"kehu.{customer.customer_no.lower()}",
            password="",  # set below from the one hash
            full_name=contact.name if contact else "",
            email=contact.email if contact else "",
        )
        User.objects.filter(pk=account.user_id).update(password=password)


# --- bulk ------------------------------------------------------------------------------------------

BULK_BATCH = 5000


def _bulk_rows(
    rng: random.Random, count: int
) -> Iterator[tuple[dict[str, Any], list[tuple[str, str]], list[str]]]:
    """(customer fields, [(contact name, phone)], [segment codes]) for ``count`` synthetic customers."""
    segment_codes = sorted(INDUSTRIES)
    for _ in range(count):
        province, city, districts = rng.choice(LOCATIONS)
        tier = _tier(rng)
        if rng.random() < 0.7:
            segment = rng.choice(segment_codes)
            name, _ = _company(rng, city, segment)
            kind = CustomerKind.ORGANIZATION
            segments = [segment] + ([SEGMENT_PAIRS[segment]] if rng.random() < 0.3 else [])
            contacts = [(_person(rng)[0], _mobile(rng)) for _ in range(rng.choice((1, 2)))]
        else:
            name = _person(rng)[0]
            kind = CustomerKind.CONSUMER
            segments = [rng.choice(("ecommerce", "retail"))] if rng.random() < 0.5 else []
            contacts = [(name, _mobile(rng))]
        fields = {
            "kind": kind,
            "name": name,
            "tier": tier,
            "province": province,
            "city": city,
            "address": _address(rng, province, city, districts),
        }
        yield fields, contacts, segments


def seed_bulk(*, customers: int = 0, tickets: int = 0, seed: int, progress: bool) -> None:
    """Write ``customers`` synthetic customers, then ``tickets`` synthetic tickets (:func:`seed_tickets`:
    1–4 messages each; customers are seeded first if there are none)."""
    _bulk_customers(customers=customers, seed=seed, progress=progress)
    seed_tickets(tickets=tickets, seed=seed, progress=progress)


def _bulk_customers(*, customers: int, seed: int, progress: bool) -> None:
    """Write ``customers`` synthetic customers (1–2 contacts each, segments) with ``bulk_create``.

    For benchmarks and load tests: no audit rows are written, and account agents are given round-robin
    among the existing active agents (none if there are none) rather than by load and skills. Every
    phone is a valid E.164 mobile, every segment a real one, and customer numbers come from the same
    counter as ``customer_create``'s, so bulk and ordinary customers never collide.
    """
    from tqdm import tqdm

    if customers <= 0:
        return
    rng = random.Random(seed)
    segments = dict(Segment.objects.values_list("code", "pk"))
    agents = list(
        User.objects.filter(role=Role.AGENT, is_active=True).order_by("pk").values_list("pk", flat=True)
    )
    now = timezone.now()
    due = first_contact_due(now)
    link = Customer.segments.through
    rows = _bulk_rows(rng, customers)
    made = 0
    with tqdm(total=customers, desc="客户", unit="row", disable=not progress) as bar:
        while made < customers:
            size = min(BULK_BATCH, customers - made)
            numbers = next_values("customer_no", size)
            batch: list[Customer] = []
            extras: list[tuple[list[tuple[str, str]], list[str]]] = []
            for number in numbers:
                fields, contacts, codes = next(rows)
                agent = agents[(number - numbers[0] + made) % len(agents)] if agents else None
                contacted = agent is not None and rng.random() < 0.6
                batch.append(
                    Customer(
                        public_id=new_public_id(),
                        customer_no=f"{CUSTOMER_NO_PREFIX}{number:07d}",
                        source=CustomerSource.SEED,
                        account_agent_id=agent,
                        account_assigned_at=now if agent else None,
                        first_contact_due_at=due if agent else None,
                        first_contacted_at=now if contacted else None,
                        created_at=now,
                        updated_at=now,
                        **fields,
                    )
                )
                extras.append((contacts, codes))
            with transaction.atomic():
                Customer.objects.bulk_create(batch, batch_size=1000)
                contact_rows: list[Contact] = []
                link_rows: list[Any] = []
                for customer, (contacts, codes) in zip(batch, extras, strict=True):
                    for index, (name, phone) in enumerate(contacts):
                        contact_rows.append(
                            Contact(
                                public_id=new_public_id(),
                                customer_id=customer.pk,
                                name=name,
                                phone=phone,
                                phone_rev=reversed_digits(phone),
                                preferred_channel=ContactChannel.PHONE,
                                is_primary=index == 0,
                                created_at=now,
                            )
                        )
                    link_rows += [
                        link(customer_id=customer.pk, segment_id=segments[c]) for c in codes if c in segments
                    ]
                Contact.objects.bulk_create(contact_rows, batch_size=1000)
                link.objects.bulk_create(link_rows, batch_size=2000)
            made += size
            bar.update(size)


# --- tickets -------------------------------------------------------------------------------------

TICKET_BATCH = 5000
TICKET_DAYS = 90
TEXT_POOL = 6000  # distinct generated ticket stories, tokenized once each (jieba: ~80 µs per text)

# waybill prefix, digits after it
CARRIERS = [("SF", 12), ("JD", 13), ("YT", 13), ("ZT", 12), ("", 12), ("KY", 11), ("DB", 10)]
CARGO = [
    "服装",
    "电子产品",
    "冷冻海鲜",
    "医药试剂",
    "汽车配件",
    "家具",
    "化工原料",
    "生鲜水果",
    "图书",
    "家电",
]
ROUTES_TO = [
    "成都",
    "北京",
    "上海",
    "广州",
    "深圳",
    "武汉",
    "西安",
    "郑州",
    "沈阳",
    "昆明",
    "乌鲁木齐",
    "拉萨",
]
TAG_NAMES = [
    "加急", "大客户", "重复来电", "需回访", "冷链", "跨境", "危险品", "大促", "媒体关注", "12315",
    "先行赔付", "二次投诉", "夜间件", "偏远地区", "保价件", "待补资料", "升级处理", "系统告警",
]  # fmt: skip
# category code → (type, subjects, descriptions). Placeholders: {cargo} {src} {dst} {days} {amount} {node}
TICKET_STORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "delay": (
        ("complaint", "exception", "inquiry"),
        (
            "{src}发往{dst}的{cargo}延误{days}天未送达",
            "货物在{node}滞留{days}天，物流信息不更新",
            "承诺次日达的{cargo}至今未派送",
            "{dst}方向干线延误，客户催件",
            "大促期间{cargo}派送超时{days}天",
        ),
        (
            "客户反映{src}发往{dst}的{cargo}已超过承诺时效{days}天，物流轨迹停留在{node}，要求尽快派送并说明原因。",
            "客户来电称货物延误影响其门店上架，希望今天内给出预计到达时间，否则要求赔偿运费。",
            "多次查询轨迹无更新，客户情绪激动，表示如果明天仍未送达将向 12315 投诉。",
        ),
    ),
    "damage": (
        ("complaint", "claim", "after_sales"),
        (
            "签收时发现{cargo}外包装破损",
            "{cargo}到货后部分损坏，申请理赔{amount}元",
            "冷链货物到货温度异常，{cargo}变质",
            "易碎品运输途中破损，客户拒收",
        ),
        (
            "收货人开箱发现{cargo}有明显挤压变形，已拍照留证，要求按保价金额理赔。",
            "客户提供了破损照片和签收单，货值约{amount}元，期望赔偿或补发。",
            "温度记录显示{node}环节超温两小时，客户要求出具责任认定并赔偿{amount}元。",
        ),
    ),
    "loss": (
        ("complaint", "claim", "exception"),
        (
            "{cargo}丢件，轨迹停在{node}",
            "快件显示已签收但收件人未收到",
            "整票{cargo}少件，到货{days}件缺失",
            "跨境包裹在清关后丢失",
        ),
        (
            "物流轨迹最后一条记录在{node}，已超过{days}天无更新，客户怀疑货物丢失，要求查找并赔偿{amount}元。",
            "收件人否认签收，签收记录显示为代收点代签，客户要求调取派送员签收凭证。",
            "分拨中心盘点未找到该件，已发起丢件调查，客户要求先行赔付。",
        ),
    ),
    "route-change": (
        ("inquiry", "after_sales"),
        (
            "申请将{cargo}改派至{dst}",
            "收货地址变更，需要拦截改址",
            "客户要求暂缓派送，改为自提",
        ),
        (
            "货物已到{node}，客户希望改派到新的收货地址，并询问是否产生额外运费。",
            "收件人临时出差，要求改约派送时间或改为网点自提。",
        ),
    ),
    "signing": (
        ("complaint", "after_sales"),
        (
            "未经同意放置快递柜，客户投诉",
            "签收人非本人，客户质疑代签",
            "派送员未送货上门要求客户自取",
        ),
        (
            "客户投诉派送员未电话联系即将{cargo}放入快递柜，要求说明并道歉。",
            "签收凭证上的签名与收件人不符，客户要求调查并提供签收照片。",
        ),
    ),
    "billing": (
        ("inquiry", "complaint"),
        (
            "{src}到{dst}运费与报价不符",
            "月结账单多收{amount}元附加费",
            "保价费计算有误，申请退还",
            "发票抬头错误，申请重开",
        ),
        (
            "客户对账发现本月账单比合同报价多出{amount}元，要求提供计费明细并退还差额。",
            "偏远地区附加费未提前告知，客户不认可，要求核实。",
        ),
    ),
    "system": (
        ("exception", "inquiry"),
        ("电子面单打印失败", "客户系统对接接口报错，无法下单", "轨迹查询页面打不开"),
        ("客户反映今日上午起接口返回超时，影响约{days}百票订单下单，请技术支持尽快排查。",),
    ),
    "return": (
        ("after_sales", "inquiry"),
        ("申请退回{cargo}至发货仓", "收件人拒收，办理退货", "换货件需上门取件"),
        ("收件人拒收{cargo}，发货方要求原路退回并确认退回运费由谁承担。",),
    ),
    "other": (
        ("inquiry", "suggestion", "quote"),
        (
            "咨询{src}到{dst}的{cargo}运价和时效",
            "建议增加夜间派送时段",
            "询问危险品能否承运",
            "大客户月度业务回顾预约",
        ),
        (
            "客户询问{src}至{dst}整车与零担报价、时效以及是否提供上门取件。",
            "客户建议在小程序增加预约派送时间功能。",
        ),
    ),
}
CATEGORY_WEIGHTS = {
    "delay": 28, "damage": 14, "loss": 10, "route-change": 9, "signing": 8, "billing": 10, "system": 3,
    "return": 8, "other": 10,
}  # fmt: skip
NODES = ["揽收", "始发分拨", "干线运输", "目的分拨", "末端派送", "签收"]
CUSTOMER_FOLLOW_UPS = [
    "请问现在有进展了吗？已经等了{days}天了。",
    "收到，谢谢。请尽快处理，我们的客户一直在催。",
    "照片已上传，请查收。货值{amount}元，有发票。",
    "今天还是没有收到货，请给个准确时间。",
    "好的，已经确认收到，问题解决了，谢谢。",
]
AGENT_REPLIES = [
    "您好，已收到您的反馈。我们已联系{node}网点核实，预计今天 18:00 前给您回复处理方案。",
    "您好，经核实货物目前在{dst}分拨中心，已安排优先派送，预计明天上午送达。",
    "您好，理赔材料已收到，我们将在 3 个工作日内完成审核，审核通过后{amount}元将原路退回。",
    "您好，已为您办理改派，新的派送地址已生效，不产生额外费用。",
    "非常抱歉给您带来不便，已对派送员进行教育，并为您申请{amount}元运费券作为补偿。",
]
INTERNAL_NOTES = [
    "已联系{src}始发分拨，对方称货物在{node}漏扫，正在查找。",
    "已提交协作单给运输部，要求 2 小时内反馈干线车辆位置。",
    "客户为 VIP，已电话告知处理进度，组长已知悉。",
    "责任明确，金额{amount}元低于 5000 元，按先行赔付流程处理。",
    "承运商回复需要客户补充开箱照片，已发短信提醒。",
]
SOLUTION_SUMMARIES = [
    "已安排优先派送并送达，客户确认满意。",
    "已按保价金额先行赔付，客户确认收到。",
    "已补发货物并退还运费。",
    "已改派至新地址并完成签收。",
    "核实计费无误并向客户解释，客户认可。",
]
# Ticket state mix of a ticket on its first day: (status category, weight). Older tickets are mostly
# done (:func:`_still_active`), so about 2 % of a 90-day history is active, as on a real desk.
STATE_WEIGHTS = [("new", 8), ("open", 17), ("pending", 12), ("resolved", 13), ("closed", 50)]
ACTIVE_STATES = ("new", "open", "pending")
DONE_STATES, DONE_WEIGHTS = ("resolved", "closed"), (13, 50)


def _still_active(age: dt.timedelta) -> float:
    """The chance that a ticket drawn active is still active at ``age``: most are resolved within a
    few days; a few (claims waiting on insurers, disputed charges) stay open for weeks."""
    if age < dt.timedelta(days=1):
        return 1.0
    if age < dt.timedelta(days=3):
        return 0.4
    if age < dt.timedelta(days=14):
        return 0.12
    return 0.02


CHANNEL_MIX = [
    ("phone", 35),
    ("chat", 25),
    ("email", 12),
    ("web", 12),
    ("api", 8),
    ("bot", 5),
    ("proactive", 3),
]
PRIORITY_MIX = [("urgent", 4), ("high", 16), ("normal", 65), ("low", 15)]
# Where portal and API tickets of each seeded category land when no team is given (the same mapping as
# migration tickets 0005, which sets it for databases whose teams existed before that migration).
TEAM_FOR_CATEGORY = {
    "delay": "after-sales", "damage": "after-sales", "loss": "after-sales", "route-change": "after-sales",
    "signing": "after-sales", "return": "after-sales", "billing": "complaints", "system": "inquiry",
    "other": "inquiry",
}  # fmt: skip
TEAM_FOR_TYPE = {
    "inquiry": "inquiry", "quote": "inquiry", "suggestion": "follow-up", "complaint": "complaints",
    "after_sales": "after-sales", "exception": "after-sales", "claim": "claims",
}  # fmt: skip


@dataclass(frozen=True)
class _Story:
    category: str
    type: str
    subject: str
    description: str
    tokens: str  # jieba tokens of subject + description (waybill and number added per ticket)


@dataclass(frozen=True)
class _Line:
    body: str
    tokens: str


def _fill(rng: random.Random, template: str) -> str:
    src = rng.choice(LOCATIONS)[1].removesuffix("市")
    return template.format(
        cargo=rng.choice(CARGO),
        src=src,
        dst=rng.choice(ROUTES_TO),
        days=rng.randint(2, 9),
        amount=rng.choice((200, 380, 500, 860, 1200, 1800, 2600, 3200, 4800, 6500)),
        node=rng.choice(NODES),
    )


class _TextPool:
    """Generated subjects, descriptions and message bodies with their jieba tokens, made once and reused:
    tokenizing a million tickets one by one would take minutes of jieba alone."""

    def __init__(self, rng: random.Random, size: int) -> None:
        from kefu.tickets import text

        codes = list(CATEGORY_WEIGHTS)
        weights = [CATEGORY_WEIGHTS[c] for c in codes]
        self.stories: list[_Story] = []
        for _ in range(size):
            code = rng.choices(codes, weights)[0]
            types, subjects, descriptions = TICKET_STORIES[code]
            subject = _fill(rng, rng.choice(subjects))
            description = _fill(rng, rng.choice(descriptions))
            self.stories.append(
                _Story(code, rng.choice(types), subject, description, text.tokens(subject, description))
            )
        lines = max(50, size // 10)

        def make(templates: list[str]) -> list[_Line]:
            out = []
            for _ in range(lines):
                body = _fill(rng, rng.choice(templates))
                out.append(_Line(body, text.tokens(body)))
            return out

        self.customer = make(CUSTOMER_FOLLOW_UPS)
        self.agent = make(AGENT_REPLIES)
        self.internal = make(INTERNAL_NOTES)


def _waybill(rng: random.Random) -> str:
    prefix, digits = rng.choice(CARRIERS)
    return f"{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}"


def _merge_tokens(*parts: str) -> str:
    return " ".join(dict.fromkeys(" ".join(p for p in parts if p).split()))


def _day_counts(rng: random.Random, total: int, days: list[dt.date]) -> list[int]:
    """Tickets per day: weekdays busier than weekends, a little noise, summing to ``total``."""
    weights = [(1.0 if d.weekday() < 5 else 0.6) * rng.uniform(0.85, 1.15) for d in days]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for index in range(total - sum(counts)):
        counts[index % len(counts)] += 1
    return counts


def _ticket_staff(rng: random.Random) -> dict[str, Any]:
    """Teams and their agents to assign bulk tickets to; a few are created when there are none."""
    from kefu.accounts.models import TeamMembership

    teams = {t.code: t for t in Team.objects.order_by("pk")}
    if not teams:
        for code, name, name_en, description, _ in TEAMS:
            teams[code] = Team.objects.create(
                name=name,
                name_en=name_en,
                code=code,
                description=description,
                description_en=TEAM_DESCRIPTIONS_EN.get(code, ""),
            )
    members: dict[int, list[int]] = {t.pk: [] for t in teams.values()}
    rows = TeamMembership.objects.filter(
        user__is_active=True, user__role__in=(Role.AGENT, Role.LEAD)
    ).values_list("team_id", "user_id")
    for team_id, user_id in rows.order_by("team_id", "user_id"):
        members.setdefault(team_id, []).append(user_id)
    for team in teams.values():
        if not members[team.pk]:
            for index in range(3):
                name, username = _person(rng)
                user = user_create(
                    actor=None,
                    username=f"seed.{team.code}.{index + 1}",
                    password=None,
                    role=Role.AGENT,
                    full_name=name,
                    email=f"{username}.{team.code}{index + 1}@kefu.example.com",
                )
                team_add_member(actor=None, team=team, user=user)
                members[team.pk].append(user.pk)
    return {"teams": teams, "members": members}


def seed_tickets(
    *, tickets: int, seed: int, progress: bool, pool_size: int = TEXT_POOL, days: int = TICKET_DAYS
) -> int:
    """Write ``tickets`` synthetic tickets with ``bulk_create``; return how many were written.

    Each ticket has 1–4 messages (the customer's first message, replies, internal notes, follow-ups),
    a waybill, 0–2 tags, a category with valid custom fields, a status of every category with the
    matching timestamps, a customer and contact from the existing customers (1,000 are seeded first if
    there are none), a team and, unless new, an assignee among the team's agents. Creation times are
    spread over the last ``days`` days; numbers are ``T``+yymmdd+counter taken from the same per-day
    counters as ``services.new_ticket_number``, so later tickets never collide. ``search_text`` holds
    the same jieba tokens the services compute, from a pool of ``pool_size`` generated texts tokenized
    once. No audit rows are written.
    """
    from tqdm import tqdm

    if tickets <= 0:
        return 0
    rng = random.Random(seed)
    if not Customer.objects.exists():
        _bulk_customers(customers=max(1000, min(tickets // 100, 100_000)), seed=seed, progress=progress)
    staff = _ticket_staff(rng)
    team_ids = {code: team.pk for code, team in staff["teams"].items()}
    all_team_ids = sorted(team_ids.values())
    members: dict[int, list[int]] = staff["members"]
    customers: list[tuple[int, int | None]] = []
    seen: set[int] = set()
    for owner, primary in (
        Contact.objects.filter(is_primary=True).order_by("customer_id").values_list("customer_id", "pk")
    ):
        if owner not in seen:
            seen.add(owner)
            customers.append((owner, primary))
    if not customers:
        customers = [(pk, None) for pk in Customer.objects.order_by("pk").values_list("pk", flat=True)]
    vip = set(Customer.objects.filter(tier=Tier.VIP).values_list("pk", flat=True))
    statuses: dict[str, list[Status]] = {}
    for status in Status.objects.order_by("position"):
        statuses.setdefault(status.category, []).append(status)
    categories = dict(Category.objects.values_list("code", "pk"))
    fields: dict[str, list[tuple[str, str, list[Any]]]] = {}
    for spec in CustomField.objects.select_related("category").order_by("position"):
        fields.setdefault(spec.category.code, []).append((spec.key, spec.kind, list(spec.choices)))
    Tag.objects.bulk_create([Tag(name=n) for n in TAG_NAMES], ignore_conflicts=True)
    tag_ids = list(Tag.objects.filter(name__in=TAG_NAMES).order_by("name").values_list("pk", flat=True))
    pool = _TextPool(rng, pool_size)
    if connection.vendor == "sqlite":
        # Random-key indexes (public ids, waybill numbers) outgrow the 64 MB page cache at a few hundred
        # thousand tickets; with a larger cache for this connection each batch rereads far fewer pages.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-1000000")
    now = timezone.now()
    today = timezone.localdate(now)
    dates = [today - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    counts = _day_counts(rng, tickets, dates)
    tz = timezone.get_current_timezone()
    states, state_weights = zip(*STATE_WEIGHTS, strict=True)
    channels, channel_weights = zip(*CHANNEL_MIX, strict=True)
    priorities, priority_weights = zip(*PRIORITY_MIX, strict=True)
    link = Ticket.tags.through
    made = 0

    def plan() -> Iterator[tuple[str, dt.datetime]]:
        """(number, created_at) in time order, numbers from the per-day counters."""
        for day, count in zip(dates, counts, strict=True):
            if not count:
                continue
            start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
            span = min((now - start).total_seconds(), 86400.0)
            offsets = sorted(rng.random() * span for _ in range(count))
            numbers = next_values(f"ticket:{day:%y%m%d}", count)
            for number, offset in zip(numbers, offsets, strict=True):
                yield f"T{day:%y%m%d}{number:04d}", start + dt.timedelta(seconds=offset)

    planned = plan()
    with tqdm(total=tickets, desc="工单", unit="row", disable=not progress) as bar:
        while made < tickets:
            size = min(TICKET_BATCH, tickets - made)
            batch: list[Ticket] = []
            extras: list[tuple[list[Message], list[str], list[int]]] = []
            for _ in range(size):
                number, created = next(planned)
                story = rng.choice(pool.stories)
                state = rng.choices(states, state_weights)[0]
                if state in ACTIVE_STATES and rng.random() > _still_active(now - created):
                    state = rng.choices(DONE_STATES, DONE_WEIGHTS)[0]
                status = rng.choice(statuses[state])
                team_code = TEAM_FOR_TYPE.get(story.type, "after-sales")
                team_id: int | None = team_ids.get(team_code) or rng.choice(all_team_ids)
                customer_id, contact_id = rng.choice(customers)
                if customer_id in vip and "key-accounts" in team_ids and rng.random() < 0.7:
                    team_id = team_ids["key-accounts"]
                assignee = None
                if state != "new" or rng.random() < 0.1:
                    agents = members.get(team_id or 0) or []
                    assignee = rng.choice(agents) if agents else None
                if state == "new" and rng.random() < 0.3:
                    team_id = None  # not triaged yet
                life = dt.timedelta(minutes=rng.randint(5, 60 * 24 * (6 if state == "closed" else 3)))
                updated = min(created + life, now)
                waybills = [_waybill(rng) for _ in range(1 if rng.random() < 0.9 else 2)]
                custom = {
                    key: rng.choice(choices)
                    if kind == "choice"
                    else rng.randint(1, 50)
                    if kind == "number"
                    else rng.random() < 0.5
                    if kind == "bool"
                    else str(created.date())
                    if kind == "date"
                    else story.subject[:20]
                    for key, kind, choices in fields.get(story.category, [])
                }
                # the conversation
                count = rng.choices((1, 2, 3, 4), (25, 35, 25, 15))[0]
                times = sorted(created + (updated - created) * rng.random() for _ in range(count - 1))
                messages: list[Message] = [
                    Message(
                        author_kind="customer",
                        contact_id=contact_id,
                        visibility="public",
                        body_html=story.description,
                        body_text=story.description,
                        created_at=created,
                    )
                ]
                token_parts = [number.lower(), story.tokens, *(w.lower() for w in waybills)]
                first_response = None
                for index, at in enumerate(times):
                    kind = ("agent", "internal", "customer")[index % 3] if index else "agent"
                    if kind == "agent":
                        line = rng.choice(pool.agent)
                        first_response = first_response or at
                    else:
                        line = rng.choice(pool.internal if kind == "internal" else pool.customer)
                    messages.append(
                        Message(
                            author_kind="customer" if kind == "customer" else "agent",
                            author_id=assignee if kind != "customer" else None,
                            contact_id=contact_id if kind == "customer" else None,
                            visibility="internal" if kind == "internal" else "public",
                            body_html=line.body,
                            body_text=line.body,
                            created_at=at,
                        )
                    )
                    token_parts.append(line.tokens)
                done = state in ("resolved", "closed")
                confirmed = rng.random() < 0.85 if state == "closed" else None
                batch.append(
                    Ticket(
                        number=number,
                        public_id=new_public_id(),
                        subject=story.subject,
                        description=story.description,
                        channel=rng.choices(channels, channel_weights)[0],
                        type=story.type,
                        category_id=categories.get(story.category),
                        priority=rng.choices(priorities, priority_weights)[0],
                        customer_id=customer_id,
                        contact_id=contact_id,
                        team_id=team_id,
                        assignee_id=assignee,
                        status=status,
                        status_category=state,
                        custom_fields=custom,
                        solution_summary=rng.choice(SOLUTION_SUMMARIES) if done else "",
                        satisfaction_confirmed=confirmed,
                        close_reason=""
                        if confirmed is None
                        else "confirmed"
                        if confirmed
                        else rng.choice(("unreachable", "no_response")),
                        close_note="" if confirmed in (None, True) else "电话联系 3 次未接通，短信已告知",
                        search_text=_merge_tokens(*token_parts),
                        created_at=created,
                        updated_at=updated,
                        first_response_at=first_response,
                        resolved_at=updated if done else None,
                        closed_at=updated if state == "closed" else None,
                    )
                )
                tags = rng.sample(tag_ids, rng.choices((0, 1, 2), (50, 35, 15))[0])
                extras.append((messages, waybills, tags))
            with transaction.atomic():
                Ticket.objects.bulk_create(batch, batch_size=1000)
                message_rows: list[Message] = []
                waybill_rows: list[TicketWaybill] = []
                tag_rows: list[Any] = []
                for ticket, (messages, waybills, tags) in zip(batch, extras, strict=True):
                    for message in messages:
                        message.ticket_id = ticket.pk
                    message_rows += messages
                    waybill_rows += [TicketWaybill(ticket_id=ticket.pk, waybill_no=w) for w in waybills]
                    tag_rows += [link(ticket_id=ticket.pk, tag_id=t) for t in tags]
                Message.objects.bulk_create(message_rows, batch_size=2000)
                TicketWaybill.objects.bulk_create(waybill_rows, batch_size=2000)
                link.objects.bulk_create(tag_rows, batch_size=2000)
            made += size
            bar.update(size)
    return made


def _seed_demo_tickets(
    rng: random.Random, seed: int, staff: dict[str, Any], customers: list[Customer]
) -> None:
    """90 days of history in bulk, then today's live queue through the services, so those tickets have
    the audit trail, conversation and lifecycle real use produces."""
    from kefu.tickets import services
    from kefu.tickets.enums import AuthorKind, StatusCategory, Visibility

    seed_tickets(tickets=DEMO_TICKETS - DEMO_LIVE_TICKETS, seed=seed, progress=False, pool_size=1500)
    pool = _TextPool(rng, DEMO_LIVE_TICKETS)
    teams: dict[str, Team] = staff["teams"]
    agents = {
        code: [u for u in team.members.order_by("username") if u.role in (Role.AGENT, Role.LEAD)]
        for code, team in teams.items()
    }
    categories = {c.code: c for c in Category.objects.all()}
    fields: dict[str, list[CustomField]] = {}
    for spec in CustomField.objects.select_related("category").order_by("position"):
        fields.setdefault(spec.category.code, []).append(spec)
    channels, channel_weights = zip(*CHANNEL_MIX, strict=True)
    priorities, priority_weights = zip(*PRIORITY_MIX, strict=True)
    ordered = sorted(customers, key=lambda c: c.customer_no)
    for story in pool.stories:
        customer = rng.choice(ordered)
        contact = customer.contacts.order_by("-is_primary", "id").first()
        code = "key-accounts" if customer.tier == Tier.VIP else TEAM_FOR_TYPE.get(story.type, "after-sales")
        team = teams[code]
        assignee = rng.choice(agents[code]) if agents[code] and rng.random() < 0.7 else None
        ticket = services.ticket_create(
            actor=assignee or rng.choice(agents[code] or staff["users"]),
            data=services.TicketData(
                subject=story.subject,
                description=story.description,
                channel=rng.choices(channels, channel_weights)[0],
                type=story.type,
                category=categories.get(story.category),
                priority=rng.choices(priorities, priority_weights)[0],
                customer=customer,
                contact=contact,
                team=team,
                assignee=assignee,
                custom_fields={f.key: rng.choice(f.choices) for f in fields.get(story.category, [])},
                tags=rng.sample(TAG_NAMES, rng.choice((0, 0, 1, 2))),
                waybills=[_waybill(rng)],
            ),
        )
        if assignee is None:
            continue
        for index in range(rng.choice((1, 1, 2, 3))):
            if index % 2 == 0:
                services.message_add(
                    actor=assignee,
                    ticket=ticket,
                    body=rng.choice(pool.agent if rng.random() < 0.7 else pool.internal).body,
                    visibility=Visibility.PUBLIC if rng.random() < 0.7 else Visibility.INTERNAL,
                )
            else:
                services.message_add(
                    actor=None,
                    ticket=ticket,
                    body=rng.choice(pool.customer).body,
                    visibility=Visibility.PUBLIC,
                    author_kind=AuthorKind.CUSTOMER,
                    contact=contact,
                )
        roll = rng.random()
        if roll < 0.2:
            services.ticket_transition(
                actor=assignee, ticket=ticket, status=services.default_status(StatusCategory.PENDING)
            )
        elif roll < 0.35:
            ticket = services.ticket_resolve(
                actor=assignee, ticket=ticket, solution_summary=rng.choice(SOLUTION_SUMMARIES)
            )
            if roll < 0.28:
                services.ticket_close(actor=assignee, ticket=ticket, satisfaction_confirmed=True)
