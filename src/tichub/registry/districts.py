"""Shanghai's 16 districts, with their administrative division codes (GB/T 2260)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    slug: str
    code: str
    zh: str
    en: str


DISTRICTS: tuple[District, ...] = (
    District("huangpu", "310101", "黄浦区", "Huangpu"),
    District("xuhui", "310104", "徐汇区", "Xuhui"),
    District("changning", "310105", "长宁区", "Changning"),
    District("jingan", "310106", "静安区", "Jing'an"),
    District("putuo", "310107", "普陀区", "Putuo"),
    District("hongkou", "310109", "虹口区", "Hongkou"),
    District("yangpu", "310110", "杨浦区", "Yangpu"),
    District("minhang", "310112", "闵行区", "Minhang"),
    District("baoshan", "310113", "宝山区", "Baoshan"),
    District("jiading", "310114", "嘉定区", "Jiading"),
    District("pudong", "310115", "浦东新区", "Pudong New Area"),
    District("jinshan", "310116", "金山区", "Jinshan"),
    District("songjiang", "310117", "松江区", "Songjiang"),
    District("qingpu", "310118", "青浦区", "Qingpu"),
    District("fengxian", "310120", "奉贤区", "Fengxian"),
    District("chongming", "310151", "崇明区", "Chongming"),
)

BY_SLUG = {d.slug: d for d in DISTRICTS}
_LOOKUP: dict[str, District] = {}
for _d in DISTRICTS:
    for _key in (_d.slug, _d.code, _d.zh, _d.zh.rstrip("区"), _d.zh.removesuffix("新区"),
                 _d.en.lower(), _d.en.lower().replace("'", "")):
        _LOOKUP[_key] = _d


def find_district(value: str) -> District | None:
    """Accepts a slug, a division code, the Chinese or the English name."""
    return _LOOKUP.get(value.strip().lower()) or _LOOKUP.get(value.strip())
