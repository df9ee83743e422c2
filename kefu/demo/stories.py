"""Ticket stories: every demo and benchmark ticket is told from one :class:`Story` — one route (origin,
transit hub, destination), one cargo of one kind, one declared value and the amount at stake — so its
subject, description, custom fields, conversation and solution summary agree with each other.

A story is drawn by :func:`make_story`; :class:`StoryPool` draws many once and tokenizes their texts once
(jieba costs ~80 µs a text: a million tickets cannot each be tokenized), for the bulk seed to reuse.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

from kefu.tickets.models import Category, CustomField

# The values of the ``cargo_type`` choice field (tickets migration 0002): the cargo's handling kind.
GENERAL, COLD_CHAIN, HAZARDOUS, VALUABLE, FRAGILE, CROSS_BORDER = (
    "普通货物", "冷链货物", "危险品", "贵重物品", "易碎品", "跨境包裹",
)  # fmt: skip
# The values of the ``exception_node`` choice field: the stage of the route where something went wrong.
NODES = ["揽收", "始发分拨", "干线运输", "目的分拨", "末端派送", "签收"]


@dataclass(frozen=True)
class Cargo:
    name: str
    kind: str  # one of the cargo_type choices
    value: tuple[int, int]  # declared value range of one consignment, yuan
    handling: str  # what the cargo needs, as the desk writes it


CARGOES = [
    Cargo("冷冻虾仁", COLD_CHAIN, (1800, 9000), "全程 -18℃ 以下冷冻运输"),
    Cargo("冰鲜三文鱼", COLD_CHAIN, (2400, 12000), "0–4℃ 冷藏运输"),
    Cargo("低温鲜奶", COLD_CHAIN, (600, 3000), "2–6℃ 冷藏运输"),
    Cargo("冷藏疫苗", COLD_CHAIN, (8000, 40000), "2–8℃ 冷藏运输并附温度记录仪"),
    Cargo("车厘子", COLD_CHAIN, (1500, 7000), "0–2℃ 冷藏运输"),
    Cargo("速冻水饺", COLD_CHAIN, (500, 2500), "-18℃ 冷冻运输"),
    Cargo("锂电池", HAZARDOUS, (3000, 20000), "按第 9 类危险品（UN3480）运输并随附 MSDS"),
    Cargo("水性涂料", HAZARDOUS, (1500, 8000), "按第 3 类易燃液体专车运输并随附 MSDS"),
    Cargo("工业清洗剂", HAZARDOUS, (800, 5000), "按第 8 类腐蚀性物质运输并随附 MSDS"),
    Cargo("玻璃器皿", FRAGILE, (800, 4000), "木架加固、禁止倒置"),
    Cargo("陶瓷餐具", FRAGILE, (600, 3500), "泡沫隔层包装、轻拿轻放"),
    Cargo("液晶显示器", FRAGILE, (2000, 12000), "原厂包装、竖放、轻拿轻放"),
    Cargo("笔记本电脑", VALUABLE, (5000, 16000), "全额保价、收件人本人签收"),
    Cargo("智能手机", VALUABLE, (3000, 12000), "全额保价、收件人本人签收"),
    Cargo("单反相机", VALUABLE, (4000, 15000), "全额保价、收件人本人签收"),
    Cargo("服装", GENERAL, (300, 3000), "常温运输"),
    Cargo("汽车配件", GENERAL, (800, 6000), "常温运输、托盘固定"),
    Cargo("图书", GENERAL, (200, 1500), "常温防潮运输"),
    Cargo("办公家具", GENERAL, (1500, 8000), "常温运输、送货上楼"),
    Cargo("日用百货", GENERAL, (300, 2500), "常温运输"),
    Cargo("跨境电商小家电", CROSS_BORDER, (800, 5000), "随附出口报关资料"),
    Cargo("跨境美妆", CROSS_BORDER, (600, 4000), "随附出口报关资料和成分说明"),
]
CARGO_BY_NAME = {c.name: c for c in CARGOES}
KINDS = frozenset(c.kind for c in CARGOES)

# city → its sorting hub (分拨中心 / 转运中心)
HUBS = {
    "上海": "上海青浦转运中心", "北京": "北京顺义分拨中心", "天津": "天津东丽分拨中心",
    "重庆": "重庆两江转运中心", "广州": "广州白云转运中心", "深圳": "深圳宝安分拨中心",
    "东莞": "东莞长安分拨中心", "佛山": "佛山顺德分拨中心", "苏州": "苏州相城转运中心",
    "南京": "南京江宁分拨中心", "无锡": "无锡新吴分拨中心", "杭州": "杭州萧山转运中心",
    "宁波": "宁波北仑分拨中心", "金华": "金华义乌转运中心", "青岛": "青岛城阳分拨中心",
    "济南": "济南历城分拨中心", "成都": "成都双流转运中心", "武汉": "武汉东西湖分拨中心",
    "郑州": "郑州航空港转运中心", "厦门": "厦门湖里分拨中心", "西安": "西安国际港务区分拨中心",
    "长沙": "长沙望城分拨中心", "合肥": "合肥蜀山分拨中心", "大连": "大连甘井子分拨中心",
    "沈阳": "沈阳于洪分拨中心", "昆明": "昆明官渡分拨中心", "乌鲁木齐": "乌鲁木齐转运中心",
    "哈尔滨": "哈尔滨道里分拨中心", "鄂州": "鄂州花湖转运中心",
}  # fmt: skip
CITIES = [c for c in HUBS if c != "鄂州"]  # 鄂州 is an air hub that parcels pass through only
TRANSIT = ["郑州", "武汉", "鄂州", "长沙", "西安", "南京", "济南"]  # trunk-line hubs in the middle
EXPORT_GATEWAYS = ["深圳", "上海", "广州", "金华", "杭州"]
ABROAD = ["洛杉矶", "新加坡", "吉隆坡", "首尔", "莫斯科", "迪拜"]


@dataclass(frozen=True)
class Route:
    origin: str
    via: str
    destination: str

    def place(self, node: str) -> str:
        """The concrete place of the route at the stage ``node`` (one of :data:`NODES`)."""
        return {
            "揽收": f"{self.origin}揽收网点",
            "始发分拨": HUBS[self.origin],
            "干线运输": HUBS[self.via],
            "目的分拨": HUBS.get(self.destination, f"{self.destination}进口清关仓"),
            "末端派送": f"{self.destination}派送网点",
            "签收": f"{self.destination}收件地址",
        }[node]


@dataclass(frozen=True)
class Turn:
    """One message of the story's conversation: ``customer`` (public), ``agent`` (public reply) or
    ``internal`` (a note only staff see)."""

    kind: str
    body: str
    tokens: str = ""


@dataclass(frozen=True)
class Story:
    category: str
    type: str
    route: Route
    cargo: Cargo
    node: str  # the stage where it went wrong
    value: int  # declared value of the consignment, yuan
    amount: int  # the money at stake: compensation, refunded freight, disputed sum (0 if none)
    subject: str
    description: str
    turns: tuple[Turn, ...]  # the conversation before the resolution, in order
    resolution: Turn  # the agent's reply that resolves it
    summary_template: str  # the solution summary; ``{waybill}`` is the ticket's waybill
    fields: dict[str, Any] = field(default_factory=dict)  # every custom field the category may have
    tags: tuple[str, ...] = ()  # the tags that may fit it (cold-chain tag only on cold-chain cargo, …)
    tokens: str = ""  # jieba tokens of subject + description

    def summary(self, waybill: str) -> str:
        return self.summary_template.replace("{waybill}", waybill)

    def conversation(self, count: int, *, done: bool) -> list[Turn]:
        """The first ``count`` turns of the conversation; a finished story ends with its resolution."""
        if count <= 0:
            return []
        if done:
            return [*self.turns[: count - 1], self.resolution]
        return list(self.turns[:count])


# --- the stories of each category --------------------------------------------------------------------
# Placeholders: {src} {dst} {via} {place} {cargo} {handling} {value} {amount} {days} {pieces} {lost}
# {temp} {weight} {orders}. A variant names the cargo kinds it fits (None: all).


@dataclass(frozen=True)
class _Variant:
    kinds: frozenset[str] | None
    subject: str
    description: str


@dataclass(frozen=True)
class _Plot:
    types: tuple[str, ...]
    nodes: tuple[str, ...]
    variants: tuple[_Variant, ...]
    turns: tuple[tuple[str, str], ...]
    resolution: str
    summary: str
    solution: str = ""  # expected_solution field value


_COLD = frozenset({COLD_CHAIN})
_FRAGILE = frozenset({FRAGILE})
_HAZ = frozenset({HAZARDOUS})
_SOLID = frozenset({GENERAL, VALUABLE, CROSS_BORDER})

PLOTS: dict[str, tuple[_Plot, ...]] = {
    "delay": (
        _Plot(
            types=("complaint", "exception", "inquiry"),
            nodes=("始发分拨", "干线运输", "目的分拨", "末端派送"),
            solution="尽快派送",
            variants=(
                _Variant(
                    None,
                    "{src}发往{dst}的{cargo}延误 {days} 天未送达",
                    "客户反映{src}发往{dst}的{cargo}已超过承诺时效 {days} 天，轨迹停在{place}。货物要求{handling}，"
                    "申报价值 {value} 元，客户要求今天给出预计送达时间。",
                ),
                _Variant(
                    None,
                    "{src}→{dst}：{cargo}在{place}滞留 {days} 天",
                    "{cargo}从{src}发出后在{place}滞留 {days} 天，物流信息不再更新。{dst}收货方已两次来电催件，"
                    "客户表示明天仍未送达将向 12305 申诉。",
                ),
                _Variant(
                    _COLD,
                    "{src}发往{dst}的{cargo}延误 {days} 天，担心冷链断链",
                    "{cargo}要求{handling}，已在{place}滞留 {days} 天。客户担心温控失效，要求核实冷库温度记录并"
                    "尽快派送，货值 {value} 元。",
                ),
            ),
            turns=(
                (
                    "agent",
                    "您好，已收到您关于{src}发往{dst}的{cargo}的反馈。我们已联系{place}核实，今天 18:00 前回复您预计送达时间。",
                ),
                (
                    "internal",
                    "已发协作单给运输部：{cargo}在{place}滞留 {days} 天，要求 2 小时内反馈车辆位置；货物须{handling}。",
                ),
                ("customer", "请问{cargo}现在到哪里了？已经晚了 {days} 天，{dst}的收货方一直在催。"),
            ),
            resolution="您好，{cargo}已从{place}发出并优先派送，预计明天中午前送达{dst}；延误期间的运费 {amount} 元将退还到您的月结账户。",
            summary="{src}→{dst} 的{cargo}（运单 {waybill}）在{place}滞留 {days} 天，已优先派送并签收；按时效承诺退还运费 {amount} 元。",
        ),
    ),
    "damage": (
        _Plot(
            types=("claim", "complaint", "after_sales"),
            nodes=("干线运输", "目的分拨", "末端派送"),
            solution="赔偿",
            variants=(
                _Variant(
                    _COLD,
                    "{src}发往{dst}的{cargo}到货温度 {temp}℃，要求理赔",
                    "收货方在{dst}开箱测得{cargo}温度 {temp}℃（要求{handling}），温度记录显示{place}环节超温约 2 小时。"
                    "货值 {value} 元，客户要求出具责任认定并赔偿 {amount} 元。",
                ),
                _Variant(
                    _FRAGILE,
                    "{src}发往{dst}的{cargo}到货破损 {lost} 件",
                    "收货人在{dst}签收时发现{cargo}外箱挤压变形，{lost} 件破损，已拍照并在签收单注明“破损签收”。"
                    "包装为{handling}，货值 {value} 元，申请赔偿 {amount} 元。",
                ),
                _Variant(
                    _HAZ,
                    "{src}发往{dst}的{cargo}包装渗漏",
                    "{place}发现{cargo}有一桶渗漏，已隔离存放。货物{handling}，客户要求说明原因、确认安全处置，"
                    "并按货值 {value} 元中的损失 {amount} 元赔偿。",
                ),
                _Variant(
                    _SOLID,
                    "签收时发现{cargo}外包装破损（{src}发往{dst}）",
                    "收货人在{dst}开箱发现{cargo}有明显挤压，外包装破损，已拍照留证。申报价值 {value} 元，"
                    "客户要求按保价规则赔偿 {amount} 元。",
                ),
            ),
            turns=(
                (
                    "agent",
                    "您好，非常抱歉。请上传{cargo}的开箱照片、签收单和货值证明（发票），材料齐全后 24 小时内受理理赔。",
                ),
                ("customer", "照片和发票已上传，{cargo}货值 {value} 元，损失 {amount} 元，请尽快处理。"),
                (
                    "internal",
                    "材料齐全：照片、签收单、发票（{value} 元）。{place}交接记录显示入站时外包装完好，责任在承运环节。",
                ),
            ),
            resolution="您好，责任认定已完成：{cargo}在{place}环节受损，赔款 {amount} 元将在 7 个工作日内支付到您的账户。",
            summary="{src}→{dst} 的{cargo}（运单 {waybill}）在{place}受损，按货值 {value} 元核定损失，赔付 {amount} 元。",
        ),
        _Plot(
            types=("after_sales", "complaint"),
            nodes=("末端派送", "目的分拨"),
            solution="补发",
            variants=(
                _Variant(
                    frozenset({GENERAL, FRAGILE}),
                    "{cargo}到货部分损坏，要求补发（{src}→{dst}）",
                    "{dst}收货方签收后发现{cargo}有 {lost} 件损坏，门店急需上架，客户不要赔款，要求尽快补发同款。"
                    "整票货值 {value} 元。",
                ),
            ),
            turns=(
                (
                    "agent",
                    "您好，已收到{cargo}损坏的照片。我们与发货方确认库存后，为您从{src}补发 {lost} 件。",
                ),
                (
                    "internal",
                    "已联系{src}仓补发 {lost} 件{cargo}，破损件由{place}拍照留存、按承运责任向承运商追偿。",
                ),
                ("customer", "补发的{cargo}什么时候能到{dst}？"),
            ),
            resolution="您好，补发的 {lost} 件{cargo}已从{src}发出，预计 2 天内送达{dst}，补发运费由我们承担。",
            summary="{dst}收到的{cargo}（运单 {waybill}）有 {lost} 件在{place}受损，已从{src}免费补发并签收。",
        ),
    ),
    "loss": (
        _Plot(
            types=("claim", "complaint", "exception"),
            nodes=("始发分拨", "干线运输", "目的分拨"),
            solution="赔偿",
            variants=(
                _Variant(
                    None,
                    "{src}发往{dst}的{cargo}丢件，轨迹停在{place}",
                    "轨迹最后一条记录在{place}，已 {days} 天无更新。{cargo}申报价值 {value} 元（{handling}），"
                    "客户要求查找并赔偿。",
                ),
                _Variant(
                    None,
                    "{cargo}整票 {pieces} 件少 {lost} 件（{src}→{dst}）",
                    "{dst}收货方点数发现{cargo}整票 {pieces} 件只到 {sum} 件，缺少 {lost} 件，{place}出站记录为 {pieces} 件。"
                    "缺失部分货值 {amount} 元，客户要求查找或赔偿。",
                ),
            ),
            turns=(
                ("agent", "您好，已为您发起丢件查找，{place}正在盘点，48 小时内给您结果。"),
                ("internal", "已发协作单给{place}：调取 {days} 天内{cargo}的出入库扫描和监控。"),
                ("customer", "已经 {days} 天了还没找到吗？这批{cargo}我们等着用。"),
            ),
            resolution="您好，{place}盘点未找到该件，按丢件处理：赔付 {amount} 元，7 个工作日内到账。",
            summary="{src}→{dst} 的{cargo}（运单 {waybill}）在{place}丢失，查找 {days} 天未果，赔付 {amount} 元。",
        ),
        _Plot(
            types=("exception", "complaint"),
            nodes=("干线运输", "目的分拨"),
            solution="查明原因",
            variants=(
                _Variant(
                    None,
                    "{cargo}显示在途 {days} 天无轨迹（{src}→{dst}）",
                    "{src}发往{dst}的{cargo}在{place}之后 {days} 天没有扫描记录，客户怀疑丢件，要求查明去向。"
                    "申报价值 {value} 元。",
                ),
            ),
            turns=(
                ("agent", "您好，已请{place}逐格查找{cargo}，今天下班前告诉您结果。"),
                ("internal", "{place}回复：{cargo}疑似错分到其他线路，正在核对同批次装车清单。"),
                ("customer", "找到了吗？{dst}那边明天就要用。"),
            ),
            resolution="您好，{cargo}已在{place}找到（分拣时错分），今天已重新发往{dst}，明天送达。",
            summary="{src}→{dst} 的{cargo}（运单 {waybill}）在{place}被错分，查明后重新发运并签收，无货物损失。",
        ),
    ),
    "route-change": (
        _Plot(
            types=("inquiry", "after_sales"),
            nodes=("目的分拨",),
            variants=(
                _Variant(
                    None,
                    "{src}发往{dst}的{cargo}申请改派新地址",
                    "{cargo}已到{place}，收件人搬迁，客户希望改派到{dst}的新收件地址，并询问是否产生额外运费。",
                ),
                _Variant(
                    None,
                    "收件人出差，{cargo}改为{dst}网点自提",
                    "{cargo}已到{place}，收件人本周出差，要求暂缓派送，改为到{dst}网点自提。",
                ),
            ),
            turns=(
                ("agent", "您好，{cargo}目前在{place}，同城改派不收取额外费用，请提供新的收件信息。"),
                ("customer", "新的收件信息已发到你们邮箱，{cargo}请尽快安排派送。"),
                ("internal", "已修改收件信息并通知{dst}派送网点，{cargo}须{handling}。"),
            ),
            resolution="您好，已为您办理改派，{cargo}明天上午由{dst}派送网点按新信息派送。",
            summary="{src}→{dst} 的{cargo}（运单 {waybill}）已在{place}改派并完成签收，未收取额外费用。",
        ),
    ),
    "signing": (
        _Plot(
            types=("complaint", "after_sales"),
            nodes=("签收",),
            variants=(
                _Variant(
                    None,
                    "{cargo}未经同意被放入{dst}快递柜",
                    "客户投诉{dst}派送员未电话联系就把{cargo}放入快递柜，货物需要{handling}，要求说明并道歉。",
                ),
                _Variant(
                    None,
                    "{cargo}签收人非本人，客户质疑代签",
                    "{src}发往{dst}的{cargo}显示已签收，签收人并非收件人本人，客户要求调取签收照片并说明代签原因。",
                ),
            ),
            turns=(
                ("agent", "您好，已调取{cargo}的派送记录和签收照片，正在核实{dst}派送员的签收过程。"),
                ("internal", "{dst}派送网点确认：派送员未经收件人同意代签，按签收违规处理。"),
                ("customer", "{cargo}需要{handling}，派送员这样处理不行，请给个说法。"),
            ),
            resolution="您好，经核实{dst}派送员未经同意处理了{cargo}的签收，已向您致歉并对派送员考核，补偿运费券 {amount} 元。",
            summary="{dst}派送员未经同意处理{cargo}（运单 {waybill}）的签收，已致歉、考核派送员并补偿运费券 {amount} 元。",
        ),
    ),
    "billing": (
        _Plot(
            types=("complaint", "inquiry"),
            nodes=("揽收",),
            variants=(
                _Variant(
                    None,
                    "{src}→{dst} 的{cargo}运费与报价不符，多收 {amount} 元",
                    "客户对账发现{src}至{dst}的{cargo}按 {weight} 公斤计费，比合同报价多出 {amount} 元，"
                    "要求提供计费明细并退还差额。",
                ),
            ),
            turns=(
                ("agent", "您好，已调取{src}至{dst}这票{cargo}的称重记录，核对后今天回复您。"),
                ("internal", "{src}揽收网点复称为 {weight2} 公斤，系统录入 {weight} 公斤，计费重量录错。"),
                ("customer", "这票{cargo}的运费请尽快核实，我们月底要结账。"),
            ),
            resolution="您好，核实为{src}揽收时把这票{cargo}的计费重量录错，多收的 {amount} 元已退到您的月结账户。",
            summary="{src}→{dst} 的{cargo}（运单 {waybill}）计费重量录错，已更正并退还差额 {amount} 元。",
        ),
    ),
    "system": (
        _Plot(
            types=("exception", "inquiry"),
            nodes=("揽收",),
            variants=(
                _Variant(
                    None,
                    "电子面单接口超时，{src}仓 {orders} 票{cargo}无法发货",
                    "客户反映今天上午起电子面单接口返回超时，{src}仓约 {orders} 票发往{dst}等地的{cargo}无法打单，"
                    "请技术支持尽快排查。",
                ),
            ),
            turns=(
                (
                    "agent",
                    "您好，已转技术支持排查电子面单接口，{src}仓的订单请先保留，恢复后第一时间通知您。",
                ),
                ("internal", "技术支持确认{src}仓电子面单服务证书过期，预计 30 分钟内恢复。"),
                ("customer", "接口恢复了吗？{src}仓的车 17 点就要发。"),
            ),
            resolution="您好，电子面单接口已恢复，{src}仓积压的 {orders} 票{cargo}可以正常打单发货。",
            summary="{src}仓电子面单接口超时（运单 {waybill} 等）已修复，积压 {orders} 票{cargo}已补打发出。",
        ),
    ),
    "return": (
        _Plot(
            types=("after_sales", "inquiry"),
            nodes=("末端派送",),
            variants=(
                _Variant(
                    None,
                    "{dst}收件人拒收{cargo}，申请退回{src}",
                    "{dst}收件人拒收{cargo}，发货方要求原路退回{src}仓，并确认退回运费 {amount} 元由谁承担。",
                ),
            ),
            turns=(
                ("agent", "您好，已为您办理{cargo}退回{src}，退回运费按合同由发货方承担 {amount} 元。"),
                ("customer", "好的，{cargo}退回{src}仓后请告诉我们入库时间。"),
                ("internal", "{dst}派送网点已将{cargo}交回{place}，按{handling}退回{src}。"),
            ),
            resolution="您好，{cargo}已退回{src}仓并签收入库，退回运费 {amount} 元计入本月账单。",
            summary="{dst}收件人拒收的{cargo}（运单 {waybill}）已原路退回{src}入库，退回运费 {amount} 元由发货方承担。",
        ),
    ),
    "other": (
        _Plot(
            types=("quote", "inquiry"),
            nodes=("揽收",),
            variants=(
                _Variant(
                    None,
                    "咨询{src}到{dst}的{cargo}运价和时效",
                    "客户询问{src}至{dst}的{cargo}（{handling}）整车与零担报价、时效，每月约 {weight} 公斤，需要上门取件。",
                ),
            ),
            turns=(
                (
                    "agent",
                    "您好，{src}至{dst}的{cargo}零担运价与时效已整理成报价单发到您邮箱，8 小时内有效回复。",
                ),
                ("customer", "报价收到，{src}上门取件最早什么时候？"),
                ("internal", "客户{cargo}月均 {weight} 公斤，须{handling}，已请销售跟进月结合同。"),
            ),
            resolution="您好，已为您安排明天上午在{src}上门取件，{cargo}预计 {days} 天送达{dst}。",
            summary="已为{src}→{dst} 的{cargo}报价并安排上门取件，首票运单 {waybill}，预计 {days} 天送达。",
        ),
    ),
}
KIND_TAGS = {COLD_CHAIN: "冷链", HAZARDOUS: "危险品", CROSS_BORDER: "跨境", VALUABLE: "保价件"}
TAG_NAMES = [
    "加急", "大客户", "重复来电", "需回访", "冷链", "跨境", "危险品", "大促", "媒体关注", "12315",
    "先行赔付", "二次投诉", "夜间件", "偏远地区", "保价件", "待补资料", "升级处理", "系统告警",
]  # fmt: skip
FAST_PAYOUT_LIMIT = 5000  # claims under this, with clear liability, are paid before recourse (domain.md)
REMOTE = ("乌鲁木齐", "哈尔滨", "昆明")

CATEGORY_WEIGHTS = {
    "delay": 28, "damage": 14, "loss": 10, "route-change": 9, "signing": 8, "billing": 10, "system": 3,
    "return": 8, "other": 10,
}  # fmt: skip

# The custom fields the demo gives its categories beside the three of migration 0002 (cargo type,
# exception node, expected solution): the route and the money, so a ticket's fields say what its
# subject says. (key, label, English label, kind)
ROUTE_FIELDS = [
    ("origin", "始发地", "Origin", "text"),
    ("destination", "目的地", "Destination", "text"),
]
DEMO_FIELDS: dict[str, list[tuple[str, str, str, str]]] = {
    "delay": [*ROUTE_FIELDS, ("declared_value", "申报价值（元）", "Declared value (yuan)", "number")],
    "damage": [*ROUTE_FIELDS, ("declared_value", "申报价值（元）", "Declared value (yuan)", "number")],
    "loss": [*ROUTE_FIELDS, ("declared_value", "申报价值（元）", "Declared value (yuan)", "number")],
    "billing": [*ROUTE_FIELDS, ("disputed_amount", "争议金额（元）", "Disputed amount (yuan)", "number")],
}


def add_story_fields() -> None:
    """Give the seeded categories the route and amount fields (optional ones: tickets created without
    them stay valid). Idempotent; called when the demo department is set up."""
    for code, specs in DEMO_FIELDS.items():
        category = Category.objects.filter(code=code).first()
        if category is None:
            continue
        start = CustomField.objects.filter(category=category).count()
        for offset, (key, label, label_en, kind) in enumerate(specs):
            CustomField.objects.get_or_create(
                category=category,
                key=key,
                defaults={"label": label, "label_en": label_en, "kind": kind, "position": start + offset},
            )


def _round(value: float, step: int) -> int:
    return max(step, int(value) // step * step)


def make_story(
    rng: random.Random,
    *,
    category: str | None = None,
    origin: str | None = None,
    destination: str | None = None,
    via: str | None = None,
    cargo: Cargo | None = None,
    node: str | None = None,
    cargo_kinds: frozenset[str] | None = None,
) -> Story:
    """Draw one story; the keyword arguments pin parts of it (a scene that needs a cold-chain delay
    through Zhengzhou asks for exactly that)."""
    if category is None:
        codes = list(CATEGORY_WEIGHTS)
        category = rng.choices(codes, [CATEGORY_WEIGHTS[c] for c in codes])[0]
    if cargo is not None:
        cargo_kinds = frozenset({cargo.kind})
    plot = rng.choice([p for p in PLOTS[category] if any(_fits(p, kind) for kind in cargo_kinds or KINDS)])
    if cargo is None:
        cargo = rng.choice(
            [c for c in CARGOES if (cargo_kinds is None or c.kind in cargo_kinds) and _fits(plot, c.kind)]
        )
    variant = rng.choice([v for v in plot.variants if v.kinds is None or cargo.kind in v.kinds])
    if cargo.kind == CROSS_BORDER:
        src = origin if origin in EXPORT_GATEWAYS else rng.choice(EXPORT_GATEWAYS)
        dst = destination if destination in ABROAD else rng.choice(ABROAD)
        via = via or src  # the export gateway's hub is the last Chinese hub on the way
    else:
        src = origin if origin in CITIES and origin != via else rng.choice([c for c in CITIES if c != via])
        if destination in CITIES and destination not in (src, via):
            dst = str(destination)
        else:
            dst = rng.choice([c for c in CITIES if c not in (src, via)])
        via = via or rng.choice([c for c in TRANSIT if c not in (src, dst)])
    route = Route(src, via, dst)
    node = node if node in plot.nodes else rng.choice(plot.nodes)
    value = _round(rng.uniform(*cargo.value), 10)
    days = rng.randint(2, 7)
    pieces = rng.randint(6, 40)
    lost = rng.randint(1, min(5, pieces - 1))
    weight = rng.randint(12, 900)
    amount = {
        "delay": _round(rng.uniform(40, 600), 5),  # the freight refunded for the delay
        "damage": _round(value * rng.uniform(0.2, 1.0), 10),
        "loss": value if variant is plot.variants[0] else _round(value * lost / pieces, 10),
        "signing": rng.choice((20, 30, 50)),
        "billing": _round(rng.uniform(30, 1500), 5),
        "return": _round(rng.uniform(20, 300), 5),
    }.get(category, 0)
    if plot.solution == "补发" or (category == "loss" and plot.solution == "查明原因"):
        amount = 0
    values = {
        "src": src,
        "dst": dst,
        "via": via,
        "place": route.place(node),
        "cargo": cargo.name,
        "handling": cargo.handling,
        "value": value,
        "amount": amount,
        "days": days,
        "pieces": pieces,
        "lost": lost,
        "sum": pieces - lost,
        # a chilled cargo arrives too warm at 9–18 ℃, a frozen one thawing at -6–4 ℃
        "temp": rng.randint(9, 18) if cargo.handling.startswith(("0", "2")) else rng.randint(-6, 4),
        "weight": weight,
        "weight2": max(1, weight - rng.randint(5, 40)),
        "orders": rng.randint(80, 900),
    }
    fields: dict[str, Any] = {}
    if category in ("delay", "damage", "loss"):
        fields = {
            "cargo_type": cargo.kind,
            "exception_node": node,
            "expected_solution": plot.solution,
            "origin": src,
            "destination": dst,
            "declared_value": value,
        }
    elif category == "billing":
        fields = {"origin": src, "destination": dst, "disputed_amount": amount}
    tags = ["加急", "需回访", "重复来电", "升级处理", "大促"]
    tags += [tag for kind, tag in KIND_TAGS.items() if cargo.kind == kind]
    if category in ("damage", "loss") and 0 < amount < FAST_PAYOUT_LIMIT:
        tags.append("先行赔付")
    if category == "system":
        tags.append("系统告警")
    if dst in REMOTE:
        tags.append("偏远地区")
    return Story(
        category=category,
        type=rng.choice(plot.types),
        route=route,
        cargo=cargo,
        node=node,
        value=value,
        amount=amount,
        subject=variant.subject.format(**values),
        description=variant.description.format(**values),
        turns=tuple(Turn(kind, body.format(**values)) for kind, body in plot.turns),
        resolution=Turn("agent", plot.resolution.format(**values)),
        summary_template=plot.summary.format(**values, waybill="{waybill}"),
        fields=fields,
        tags=tuple(tags),
    )


def _fits(plot: _Plot, kind: str) -> bool:
    return any(v.kinds is None or kind in v.kinds for v in plot.variants)


def story_fields(story: Story, specs: list[tuple[str, str, list[Any]]]) -> dict[str, Any]:
    """The story's values for the fields its category has in this database (``specs``: key, kind,
    choices): a field the database lacks is left out, and a choice an administrator removed is not
    offered."""
    out = {}
    for key, kind, choices in specs:
        value = story.fields.get(key)
        if value is None or (kind == "choice" and value not in choices):
            continue
        out[key] = value
    return out


class StoryPool:
    """``size`` stories with their jieba tokens, made once and reused by the bulk seed."""

    def __init__(self, rng: random.Random, size: int) -> None:
        from kefu.tickets import text

        self.stories: list[Story] = []
        for _ in range(size):
            story = make_story(rng)
            self.stories.append(
                dataclasses.replace(
                    story,
                    turns=tuple(Turn(t.kind, t.body, text.tokens(t.body)) for t in story.turns),
                    resolution=Turn("agent", story.resolution.body, text.tokens(story.resolution.body)),
                    tokens=text.tokens(story.subject, story.description),
                )
            )
