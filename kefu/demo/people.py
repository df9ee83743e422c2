"""The people of the demo department: teams, staff in every role, customers with contacts, notes and
portal logins — through the ordinary services, so groups, permissions, account-agent assignment and the
audit log are exactly what real use produces — and the bulk customers of benchmarks (``bulk_create``,
no audit rows)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from kefu.accounts.enums import Availability, Role
from kefu.accounts.models import Skill, Team, User
from kefu.accounts.services import team_add_member, user_create, user_set_availability
from kefu.core import reference
from kefu.core.actors import SYSTEM
from kefu.core.ids import new_public_id
from kefu.core.phones import reversed_digits
from kefu.core.sequences import next_values
from kefu.customers.enums import ContactChannel, CustomerKind, CustomerSource, Tier
from kefu.customers.models import Contact, Customer, Segment
from kefu.customers.services import (
    CUSTOMER_NO_PREFIX,
    ContactData,
    customer_assign_account_agent,
    customer_create,
    customer_mark_contacted,
    customer_note_add,
    first_contact_due,
    portal_account_create,
)
from kefu.tickets.models import Category

DEMO_PASSWORD = "kefu-demo-2026"
DEMO_CUSTOMERS = 500
# The team of the demo agent and lead logins: the VIP queue, where the demo portal customer's tickets go.
DEMO_TEAM = "key-accounts"
PORTAL_USERNAME = "kehu.demo"

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

# Where portal and API tickets of each seeded category land when no team is given (the same mapping as
# migration tickets 0005, which sets it for databases whose teams existed before that migration).
TEAM_FOR_CATEGORY = {
    "delay": "after-sales", "damage": "after-sales", "loss": "after-sales", "route-change": "after-sales",
    "signing": "after-sales", "return": "after-sales", "billing": "complaints", "system": "inquiry",
    "other": "inquiry",
}  # fmt: skip
# The desk that works a ticket of each type (VIP customers' tickets go to the key-account team instead).
TEAM_FOR_TYPE = {
    "inquiry": "inquiry", "quote": "inquiry", "suggestion": "follow-up", "complaint": "complaints",
    "after_sales": "after-sales", "exception": "after-sales", "claim": "claims",
}  # fmt: skip

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
    # The demo team first: the first lead and the first agent are the demo logins (:func:`demo_logins`).
    codes = [DEMO_TEAM, *(code for code, *_ in TEAMS if code != DEMO_TEAM)]
    plan += [StaffSpec(Role.LEAD, code, is_lead=True) for code in codes]
    agents_per_team = {
        DEMO_TEAM: 3,
        "inquiry": 4,
        "complaints": 3,
        "follow-up": 3,
        "after-sales": 3,
        "claims": 2,
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
    first["customer-portal"] = PORTAL_USERNAME
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
            actor=admin or SYSTEM,
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
            team_add_member(actor=admin or SYSTEM, team=teams[spec.team], user=user, is_lead=spec.is_lead)
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
        team_add_member(actor=admin or SYSTEM, team=team, user=manager)
    return {
        "users": users,
        "teams": teams,
        "admin": admin,
        "demo_agent": next(u for u in users if u.role == Role.AGENT),
        "demo_lead": next(u for u in users if u.role == Role.LEAD),
    }


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


def _seed_portal(rng: random.Random, staff: dict[str, Any], customers: list[Customer]) -> Customer:
    """Portal logins for a few organizations; the first, a VIP whose account agent is the demo agent, is
    the demo customer login. Returns the demo customer."""
    orgs = [c for c in customers if c.kind == CustomerKind.ORGANIZATION]
    first = next(c for c in orgs if c.tier == Tier.VIP)
    demo_agent = staff["demo_agent"]
    if first.account_agent_id != demo_agent.pk:
        first = customer_assign_account_agent(actor=staff["admin"], customer=first, agent=demo_agent)
    customer_mark_contacted(actor=demo_agent, customer=first)
    chosen = [first, *rng.sample([c for c in orgs if c.pk != first.pk], 3)]
    password = make_password(DEMO_PASSWORD)
    for index, customer in enumerate(chosen):
        contact = customer.contacts.order_by("-is_primary", "id").first()
        account = portal_account_create(
            actor=staff["admin"],
            customer=customer,
            username=PORTAL_USERNAME if index == 0 else f"kehu.{customer.customer_no.lower()}",
            password="",  # set below from the one hash
            full_name=contact.name if contact else "",
            email=contact.email if contact else "",
        )
        User.objects.filter(pk=account.user_id).update(password=password)
    return first


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
