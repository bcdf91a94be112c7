"""The yearly report (årsrapport) as tables: one definition for the printable page and the
Excel workbook, so the two cannot disagree. Figures come from `queries.yearly_report`."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from crm.choices import Category, Channel, OrganisationType, Priority
from crm.core.templating import format_hours
from crm.regions import region_name
from crm.timeutil import local_date

# The printed report starts each part on a new page.
PARTS = ("summary", "distribution", "agreed", "dialogue")


@dataclass(frozen=True)
class Link:
    """A cell that leads somewhere: the page shows a link, the workbook the value."""

    value: object
    url: str

    def __str__(self) -> str:
        return str(self.value)


@dataclass
class Table:
    key: str  # the HTML id
    part: str  # one of PARTS
    title: str  # the heading, and the sheet's name
    headers: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    numeric: tuple[int, ...] = ()  # right-aligned columns
    note: str = ""
    more: Link | None = None  # where the rows a long table leaves out can be seen


def report_tables(report: dict, targets: dict[Priority, int]) -> list[Table]:
    """Every table of the yearly report, in reading order."""
    year = report["year"]
    this, before = report["summary"], report["previous"]
    return [
        _summary(year, this, before),
        _response_times(year, this, before, targets),
        _distribution("categories", _("Förfrågningar per kategori"), _("Kategori"), year,
                      report["by_category"], this["total"], "category",
                      lambda value: Category(value).label),
        _distribution("regions", _("Förfrågningar per län"), _("Län"), year,
                      report["by_region"], this["total"], "region", region_name,
                      note=_("En förfrågan kan beröra flera län, så summan kan bli större än "
                             "antalet förfrågningar.")),
        _distribution("types", _("Förfrågningar per typ av organisation"),
                      _("Typ av organisation"), year, report["by_type"], this["total"],
                      "organisation_type", lambda value: OrganisationType(value).label),
        _distribution("channels", _("Förfrågningar per kanal"), _("Kanal"), year,
                      report["by_channel"], this["total"], "channel",
                      lambda value: Channel(value).label),
        _outcomes(year, this),
        _agreed(year, report["agreed"]),
        _dialogue(report["dialogue"]),
    ]  # fmt: skip


def _list(**args) -> str:
    return url_for("inquiries.index", **args)


def _summary(year: int, this: dict, before: dict) -> Table:
    rows = [
        (_("Nya förfrågningar"), Link(this["total"], _list(year=year)),
         Link(before["total"], _list(year=year - 1)),
         _count_change(this["total"], before["total"])),
    ]  # fmt: skip
    for outcome in this["outcomes"]:
        now_n, then_n = this["outcomes"][outcome], before["outcomes"][outcome]
        rows.append(
            (outcome.label, Link(now_n, _list(outcome=outcome.value, outcome_year=year)),
             Link(then_n, _list(outcome=outcome.value, outcome_year=year - 1)),
             _count_change(now_n, then_n))
        )  # fmt: skip
    rows += [
        (_("Median till första svar"), format_hours(this["median_hours"]),
         format_hours(before["median_hours"]),
         _hours_change(this["median_hours"], before["median_hours"])),
        (_("9 av 10 besvaras inom"), format_hours(this["p90_hours"]),
         format_hours(before["p90_hours"]), _hours_change(this["p90_hours"], before["p90_hours"])),
        (_("Median till första svar, arbetsdagar"), _days(this["median_days"]),
         _days(before["median_days"]), _days_change(this["median_days"], before["median_days"])),
        (_("9 av 10 besvaras inom, arbetsdagar"), _days(this["p90_days"]),
         _days(before["p90_days"]), _days_change(this["p90_days"], before["p90_days"])),
        (_("Besvarade inom målet"), _share(this["within_target"]),
         _share(before["within_target"]), _points_change(this, before)),
    ]  # fmt: skip
    return Table(
        "summary", "summary", _("Året i korthet"),
        (_("Mått"), str(year), str(year - 1), _("Förändring")), rows, numeric=(1, 2, 3),
        note=_("Utfall räknas det år de nåddes; svarstider för förfrågningar som kom in under "
               "året."),
    )  # fmt: skip


def _response_times(year: int, this: dict, before: dict, targets: dict) -> Table:
    answered, known = this["within_target"]
    rows = [
        (_("Median till första svar"), format_hours(this["median_hours"])),
        (_("9 av 10 besvaras inom"), format_hours(this["p90_hours"])),
        (_("Median till första svar, arbetsdagar"), _days(this["median_days"])),
        (_("9 av 10 besvaras inom, arbetsdagar"), _days(this["p90_days"])),
        (_("Målet, arbetsdagar (normal prioritet)"), _days(targets[Priority.NORMAL])),
        (_("Besvarade inom målet"), _share(this["within_target"])),
        (_("Besvarade inom målet, antal"), _("%(a)s av %(b)s", a=answered, b=known)),
    ]
    note = _(
        "Målet är ett första svar inom %(normal)s arbetsdagar (hög prioritet %(high)s, låg "
        "%(low)s); helgdagar och stängningsdagar räknas inte och pausade förfrågningar står "
        "still. Timmar är klocktid från att förfrågan kom in till första svaret; arbetsdagar "
        "räknas som målet (0 = samma arbetsdag).",
        normal=targets[Priority.NORMAL], high=targets[Priority.HIGH], low=targets[Priority.LOW],
    )  # fmt: skip
    return Table(
        "response", "summary", _("Svarstider %(year)s", year=year), (_("Mått"), _("Värde")),
        rows, numeric=(1,), note=note,
    )  # fmt: skip


def _distribution(key, title, first, year, counts, total, arg, label, note="") -> Table:
    rows = [
        (label(value) if value else _("Okänd"),
         Link(n, _list(year=year, **{arg: value})) if value else n,
         _percent(n, total))
        for value, n in counts
    ]  # fmt: skip
    return Table(
        key, "distribution", title, (first, _("Antal"), _("Andel")), rows, numeric=(1, 2),
        note=note,
    )  # fmt: skip


def _outcomes(year: int, this: dict) -> Table:
    rows = [
        (outcome.label, Link(n, _list(outcome=outcome.value, outcome_year=year)))
        for outcome, n in this["outcomes"].items()
    ]
    return Table(
        "outcomes",
        "distribution",
        _("Utfall"),
        (_("Utfall"), _("Antal")),
        rows,
        numeric=(1,),
        note=_("Förfrågningar som fick sitt utfall under året, oavsett när de kom in."),
    )


def _agreed(year: int, agreed: dict) -> Table:
    def partner(row):
        name = row.organisation or "–"
        if row.organisation_id is None:
            return name
        return Link(name, url_for("partners.detail", organisation_id=row.organisation_id))

    rows = [
        (Link(row.reference, url_for("inquiries.detail", reference=row.reference)), partner(row),
         row.subject or "–", Category(row.category).label if row.category else "–",
         format_date(local_date(row.closed_at)))
        for row in agreed["rows"]
    ]  # fmt: skip
    more = None
    if agreed["total"] > len(rows):
        more = Link(
            _("Här visas de %(shown)s första av %(total)s. Alla finns i förfrågningslistan, "
              "där de också kan exporteras.", shown=len(rows), total=agreed["total"]),
            _list(outcome="agreed", outcome_year=year),
        )  # fmt: skip
    return Table(
        "agreed", "agreed", _("Överenskomna samarbeten"),
        (_("Referens"), _("Partnerorganisation"), _("Ämne"), _("Kategori"), _("Överenskommet")),
        rows, more=more,
    )  # fmt: skip


def _dialogue(dialogue: dict) -> Table:
    def partner(organisation_id, name):
        return Link(name, url_for("partners.detail", organisation_id=organisation_id))

    rows = [
        (partner(row.id, row.name), row.title, format_date(local_date(row.completed_at)))
        for row in dialogue["completed"]
    ]
    rows += [
        (partner(row.id, row.name), _("Ingen avslutad uppföljning under året"), "–")
        for row in dialogue["without"]
    ]
    more = None
    if dialogue["total"] > len(rows):
        more = Link(
            _("Här visas %(shown)s av %(total)s rader. Varje stående partner finns i "
              "organisationsregistret, med sina uppföljningar.", shown=len(rows),
              total=dialogue["total"]),
            url_for("partners.index", relationship="active_partner"),
        )  # fmt: skip
    return Table(
        "dialogue", "dialogue", _("Dialog med stående partner"),
        (_("Partnerorganisation"), _("Uppföljning"), _("Klar")), rows, more=more,
        note=_("Uppföljningar som avslutades under året hos organisationer med relationen "
               "aktiv partner."),
    )  # fmt: skip


# ---- formatting ---------------------------------------------------------------------------


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "–"


def _share(within: tuple[int, int]) -> str:
    answered, known = within
    return _percent(answered, known)


def _count_change(now: int, then: int) -> str:
    difference = now - then
    if not then:
        return f"{difference:+d}" if difference else "±0"
    return f"{difference:+d} ({round(100 * difference / then):+d} %)" if difference else "±0"


def _days(value: int | None) -> str:
    if value is None:
        return "–"
    return ngettext("%(num)s arbetsdag", "%(num)s arbetsdagar", value)


def _days_change(now: int | None, then: int | None) -> str:
    if now is None or then is None:
        return "–"
    return f"{now - then:+d}" if now != then else "±0"


def _hours_change(now: float | None, then: float | None) -> str:
    if now is None or then is None:
        return "–"
    difference = now - then
    sign = "+" if difference > 0 else "-" if difference < 0 else "±"
    return sign + format_hours(abs(difference))


def _points_change(this: dict, before: dict) -> str:
    (a, b), (c, d) = this["within_target"], before["within_target"]
    if not b or not d:
        return "–"
    points = round(100 * a / b) - round(100 * c / d)
    return _("%(n)s procentenheter", n=f"{points:+d}")


# ---- the workbook -------------------------------------------------------------------------

INVALID_SHEET_CHARACTERS = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def yearly_workbook(tables: list[Table]) -> io.BytesIO:
    """The report's tables as an Excel workbook, one sheet per table, in memory (a few hundred
    rows at most). Text is written as text, counts as numbers."""
    import xlsxwriter

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True, "text_wrap": True})
    heading = workbook.add_format({"bold": True, "font_size": 13})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    used: set[str] = set()
    for table in tables:
        name = table.title.translate(INVALID_SHEET_CHARACTERS)[:31].strip()
        while name.lower() in used:
            name = name[:29] + " " + str(len(used))
        used.add(name.lower())
        sheet = workbook.add_worksheet(name)
        sheet.write_string(0, 0, table.title, heading)
        if table.note:
            sheet.write_string(1, 0, table.note)
        if table.more:
            sheet.write_string(2, 0, table.more.value)
        first = 3
        for column, header in enumerate(table.headers):
            sheet.write_string(first, column, header, bold)
            widest = max([len(header), *(len(str(row[column])) for row in table.rows)])
            sheet.set_column(column, column, min(max(widest + 2, 10), 60), wrap)
        for number, row in enumerate(table.rows, start=first + 1):
            for column, cell in enumerate(row):
                value = cell.value if isinstance(cell, Link) else cell
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(number, column, value)
                else:
                    sheet.write_string(number, column, "" if value is None else str(value))
        sheet.freeze_panes(first + 1, 0)
    workbook.close()
    output.seek(0)
    return output
