"""Word lists for deterministic demo names and addresses (invented, not real companies)."""

from __future__ import annotations

# (Chinese, pinyin) pairs for brand-like names.
BRANDS = [
    ("华检", "Huajian"), ("申测", "Shence"), ("浦信", "Puxin"), ("沪质", "Huzhi"),
    ("天衡", "Tianheng"), ("中准", "Zhongzhun"), ("东标", "Dongbiao"), ("海测", "Haice"),
    ("晨鉴", "Chenjian"), ("远航", "Yuanhang"), ("正衡", "Zhengheng"), ("科量", "Keliang"),
    ("安鉴", "Anjian"), ("锦测", "Jince"), ("明标", "Mingbiao"), ("博检", "Bojian"),
    ("信测", "Xince"), ("泰检", "Taijian"), ("德量", "Deliang"), ("瑞测", "Ruice"),
    ("联标", "Lianbiao"), ("恒鉴", "Hengjian"), ("新质", "Xinzhi"), ("嘉测", "Jiace"),
    ("汇检", "Huijian"), ("广测", "Guangce"), ("通标", "Tongbiao"), ("优质", "Youzhi"),
    ("卓检", "Zhuojian"), ("鼎测", "Dingce"), ("诚标", "Chengbiao"), ("启鉴", "Qijian"),
]

SECTOR_WORDS = {
    "vehicles": ("汽车", "Automotive"),
    "chips": ("芯片", "Semiconductor"),
    "batteries": ("新能源", "New Energy"),
    "electrical": ("电器", "Electrical"),
    "construction": ("建设工程", "Construction"),
    "instruments": ("计量", "Metrology"),
    "medical": ("医疗器械", "Medical Device"),
    "food": ("食品", "Food"),
    "materials": ("材料", "Materials"),
    "carbon": ("低碳", "Low Carbon"),
    "consumer": ("消费品", "Consumer Products"),
}

KIND_WORDS = {
    "lab": ("检测技术有限公司", "Testing Technology Co., Ltd."),
    "certification_body": ("认证有限公司", "Certification Co., Ltd."),
    "inspection_body": ("检验有限公司", "Inspection Co., Ltd."),
}

PARKS = {
    "jiading": ["嘉定检验检测认证产业园", "国家质检中心嘉定基地"],
    "pudong": ["张江科学城", "临港新片区检验检测认证集聚区", "外高桥保税区"],
    "minhang": ["紫竹高新区", "莘庄工业区"],
    "baoshan": ["宝山检验检测认证产业园", "上海机器人产业园"],
    "songjiang": ["松江G60科创走廊检验检测认证园"],
    "qingpu": ["市西软件信息园"],
    "xuhui": ["漕河泾开发区"],
    "jinshan": ["金山第二工业区"],
    "fengxian": ["东方美谷"],
}

STREETS = ["科技路", "创新路", "工业路", "金桥路", "长江路", "黄河路", "浦星公路", "环城路",
           "建业路", "学府路", "振华路", "启航路", "兴业路", "新源路", "沪宜公路", "光明路"]

# Rough centres of the districts (WGS 84), for plausible map positions.
CENTRES = {
    "huangpu": (31.2317, 121.4846), "xuhui": (31.1885, 121.4365),
    "changning": (31.2204, 121.4246), "jingan": (31.2286, 121.4479),
    "putuo": (31.2495, 121.3956), "hongkou": (31.2646, 121.5050),
    "yangpu": (31.2595, 121.5260), "minhang": (31.1128, 121.3816),
    "baoshan": (31.4053, 121.4893), "jiading": (31.3747, 121.2655),
    "pudong": (31.2215, 121.5443), "jinshan": (30.7416, 121.3420),
    "songjiang": (31.0322, 121.2277), "qingpu": (31.1497, 121.1241),
    "fengxian": (30.9180, 121.4739), "chongming": (31.6230, 121.3973),
}

# Where labs cluster: the plan's "2 + N + X" layout favours Jiading, Pudong and Minhang.
DISTRICT_WEIGHTS = {
    "jiading": 14, "pudong": 18, "minhang": 11, "baoshan": 8, "songjiang": 8, "xuhui": 7,
    "qingpu": 5, "jingan": 4, "yangpu": 4, "putuo": 4, "fengxian": 4, "jinshan": 3,
    "changning": 3, "huangpu": 2, "hongkou": 3, "chongming": 2,
}
