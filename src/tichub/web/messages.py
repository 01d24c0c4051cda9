"""Words that templates translate from data (enum values, error titles), listed here so that
``pybabel extract`` finds them; nothing imports this module."""


def _(text: str) -> str:
    return text


DYNAMIC = [
    # qualification status
    _("valid"), _("suspended"), _("withdrawn"), _("expired"),
    # organisation and institution kinds
    _("enterprise"), _("lab"), _("certification_body"), _("regulator"), _("operator"),
    _("inspection_body"),
    # roles
    _("viewer"), _("editor"), _("admin"),
    # revenue tiers
    _("under_10m"), _("10m_to_100m"), _("100m_to_1b"), _("over_1b"),
    # problem titles
    _("Invalid input"), _("Not found"), _("Forbidden"), _("Unauthorized"), _("Conflict"),
    _("Sign-in failed"), _("CSRF check failed"), _("Import refused"), _("Method not allowed"),
    _("Error"), _("Results refused"), _("Cannot compute"),
    # proficiency testing: round and participation status, assessments
    _("draft"), _("open"), _("closed"), _("published"),
    _("invited"), _("requested"), _("accepted"), _("declined"),
    _("satisfactory"), _("questionable"), _("unsatisfactory"),
    # marketplace: order, booking, voucher, application and listing status
    _("submitted"), _("quoted"), _("sample_received"), _("testing"), _("report_issued"),
    _("completed"), _("cancelled"), _("disputed"), _("confirmed"), _("no_show"), _("active"),
    _("revoked"), _("applied"), _("approved"), _("rejected"), _("rated"), _("scheduled"),
    _("advised"),
    # carbon: study status, boundaries, life-cycle stages, origins of emissions, input kinds,
    # uncertainty kinds, the certification checklist and its verdicts
    _("in_review"), _("questions"), _("certified"),
    _("cradle_to_gate"), _("cradle_to_grave"),
    _("Raw materials"), _("Production"), _("Distribution"), _("Use"), _("End of life"),
    _("Total"),
    _("fossil"), _("biogenic"), _("biogenic_removal"), _("dluc"), _("land_management"),
    _("aircraft"),
    _("material"), _("energy"), _("transport"), _("waste"), _("service"), _("emission"),
    _("fixed"), _("lognormal"), _("normal"), _("triangular"), _("uniform"), _("pedigree"),
    _("boundary"), _("cut_off"), _("data_quality"), _("allocation"), _("general"),
    _("pending"), _("conforms"), _("finding"), _("not_applicable"),
]
