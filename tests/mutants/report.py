"""The mutation report: what each mutant became, the kill rate, and every survivor with its reason."""

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass

from grading.results import StudentResult

from .clauses import parts_of
from .operators import OPERATORS, Generated, Mutant
from .oracle import Verdict

GOAL = 0.99  # of the mutants that change behaviour, the share the hidden tests must kill


@dataclass
class Outcome:
    mutant: Mutant
    graded: StudentResult  # the mutant's, graded as a student
    verdict: Verdict
    reviewed: tuple[str, str] | None = None  # (verdict, reason) from reviewed.py

    @property
    def status(self):
        """killed, equivalent, survived (changes behaviour, earns full marks) or not graded."""
        if not self.graded.recorded:
            return "not graded"
        if self.graded.lost:
            return "killed"
        equivalent = self.reviewed[0] == "equivalent" if self.reviewed else self.verdict.equivalent
        return "equivalent" if equivalent else "survived"

    @property
    def reason(self):
        """The reviewed reason, if any, then what the oracle found."""
        found = self._found()
        return f"reviewed: {self.reviewed[1]} (oracle: {found})" if self.reviewed else found

    def _found(self):
        v = self.verdict
        if v.equivalent:
            return f"equivalent: no input among the {v.cases} tried distinguishes it"
        if not v.clause:
            return f"changes behaviour, no clause covers it: {v.detail}"
        return f'breaks "{v.clause}": {v.input}: {v.detail}'

    @property
    def wrong_part(self):
        """Lost points, but only outside the parts of the function it mutates."""
        own = parts_of(self.mutant.function)
        return bool(self.graded.lost) and bool(own) and not own & set(self.graded.lost_parts)


def build(outcomes, generated, *, date, notebook, seconds, sample, reviewed, rejudged=None):
    """The report as plain data (report.json); render() turns it into report.md.

    ``generated`` is operators.Generated; ``sample`` is None when every mutant was graded.
    """
    counts = Counter(o.status for o in outcomes)
    changing = counts["killed"] + counts["survived"]
    per_operator = {}
    for operator in OPERATORS:
        mine = [o for o in outcomes if o.mutant.operator == operator]
        per_operator[operator] = {
            "generated": sum(m.operator == operator for m in generated.mutants),
            "graded": len(mine),
            "killed": sum(o.status == "killed" for o in mine),
            "survived": sum(o.status == "survived" for o in mine),
            "equivalent": sum(o.status == "equivalent" for o in mine),
            "duplicates": generated.duplicates[operator],
            "invalid": sum(m.operator == operator for m in generated.invalid),
        }
    ids = {m.id for m in generated.mutants}

    def listed(keep):
        return [o.mutant.id for o in outcomes if keep(o)]

    return {
        "date": date,
        "rejudged": rejudged,  # when --rereport last judged the mutants that earned full marks
        "notebook": notebook,
        "seconds": seconds,
        "sample": sample,
        "counts": {
            "mutants": len(generated.mutants),
            "graded": len(outcomes),
            "killed": counts["killed"],
            "survived": counts["survived"],
            "equivalent": counts["equivalent"],
            "not graded": counts["not graded"],
            "invalid": len(generated.invalid),
            "duplicates": sum(generated.duplicates.values()),
        },
        "kill_rate": counts["killed"] / changing if changing else None,
        "goal": GOAL,
        "operators": per_operator,
        "charged": _charged([o for o in outcomes if o.status == "killed"]),
        # the lists below name mutants by id; "mutants" holds each one's details
        "survivors": listed(lambda o: o.status == "survived"),
        "wrong_part": listed(lambda o: o.wrong_part),
        "killed_without_difference": listed(lambda o: o.status == "killed" and o.verdict.equivalent),
        "equivalent": listed(lambda o: o.status == "equivalent"),
        "not_graded": listed(lambda o: o.status == "not graded"),
        "stale_reviews": sorted(set(reviewed) - ids) if sample is None else [],
        "invalid": [_mutant_fields(m) for m in generated.invalid],
        "mutants": [_entry(o) for o in outcomes],
    }


def rebuild(report, reviewed, rejudged=None):
    """The report again from its own report.json, with the reasons now in reviewed.py (no grading)."""
    fields = ("id", "cell", "function", "operator", "line", "before", "after")
    outcomes = [
        Outcome(
            Mutant(**{k: e[k] for k in fields}, code=""),
            StudentResult(
                e["id"], recorded=e["recorded"], cells=e["lost"], events=[_event(line) for line in e["events"]]
            ),
            Verdict(e["id"], **e["oracle"]),
            reviewed.get(e["id"]),
        )
        for e in report["mutants"]
    ]
    if report["sample"] is None:
        mutants = [o.mutant for o in outcomes]
    else:  # stand-ins, so that each operator keeps its number of mutants
        mutants = [
            Mutant("", "", "", op, 0, "", "", "")
            for op, row in report["operators"].items()
            for _ in range(row["generated"])
        ]
    generated = Generated(
        mutants,
        [Mutant(**{k: e[k] for k in fields}, code="") for e in report["invalid"]],
        Counter({op: row["duplicates"] for op, row in report["operators"].items()}),
    )
    return build(
        outcomes,
        generated,
        date=report["date"],
        notebook=report["notebook"],
        seconds=report["seconds"],
        sample=report["sample"],
        reviewed=reviewed,
        rejudged=rejudged or report.get("rejudged"),
    )


def _charged(killed):
    """Per part of the mutated functions: how many killed mutants lost points in that part only,
    there and elsewhere too (and where), or only elsewhere."""
    rows = {}
    for o in killed:
        own = parts_of(o.mutant.function)
        lost = set(o.graded.lost_parts)
        row = rows.setdefault(
            ", ".join(sorted(own)) or "(no clause)",
            {"killed": 0, "own part only": 0, "also elsewhere": 0, "elsewhere only": 0, "elsewhere": Counter()},
        )
        row["killed"] += 1
        if not own or lost <= own:
            row["own part only"] += 1
        else:
            row["also elsewhere" if lost & own else "elsewhere only"] += 1
            row["elsewhere"].update(lost - own)
    return {part: {**row, "elsewhere": dict(sorted(row["elsewhere"].items()))} for part, row in sorted(rows.items())}


def _mutant_fields(m):
    return {
        "id": m.id,
        "cell": m.cell,
        "function": m.function,
        "operator": m.operator,
        "line": m.line,
        "before": _stripped(m.before),
        "after": _stripped(m.after),
    }


def _stripped(code):
    return "\n".join(line.strip() for line in code.splitlines())


def _entry(outcome):
    m, g, v = outcome.mutant, outcome.graded, outcome.verdict
    entry = {
        **_mutant_fields(m),
        "status": outcome.status,
        "recorded": g.recorded,
        "lost": g.lost,
        "lost_parts": g.lost_parts,
        "own_parts": sorted(parts_of(m.function)),
        "events": [f"{e['cell']}: {e['detail']}" for e in g.events],
        "oracle": {k: value for k, value in asdict(v).items() if k != "id"},
    }
    if outcome.status == "killed":  # what the oracle found matters less once a test has caught it
        entry["oracle"] = {k: entry["oracle"][k] for k in ("equivalent", "cases", "clause")}
    else:
        entry["reason"] = outcome.reason
    return entry


def _event(line):
    """An event of the grader back from its line in report.json ("cell: detail"; the kind is not kept)."""
    cell, _, detail = line.partition(": ")
    return {"cell": cell, "detail": detail}


def write(report, folder):
    os.makedirs(folder, exist_ok=True)
    summary = json.dumps({k: v for k, v in report.items() if k != "mutants"}, indent=1)
    mutants = ",\n".join("  " + json.dumps(entry) for entry in report["mutants"])  # one line each: diffs stay readable
    with open(os.path.join(folder, "report.json"), "w", encoding="utf-8") as handle:
        handle.write(f'{summary[:-2]},\n "mutants": [\n{mutants}\n ]\n}}\n')
    with open(os.path.join(folder, "report.md"), "w", encoding="utf-8") as handle:
        handle.write(render(report))


def _code(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "`" + " ⏎ ".join(lines).replace("`", "'").replace("|", "\\|") + "`"


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def render(report):
    c = report["counts"]
    rate = report["kill_rate"]
    seconds = report["seconds"]
    scope = (
        f"a random sample of {report['sample']['size']} (seed {report['sample']['seed']})"
        if report["sample"]
        else "every mutant"
    )
    out = [
        "# Mutation testing of the reference solution",
        "",
        f"Generated by `make mutants` on {report['date']} from `{report['notebook']}`; {scope}. "
        "Do not edit: run it again. Reasons a person gave are in `tests/mutants/reviewed.py`."
        + (
            f" The mutants that earned full marks were judged again on {report['rejudged']} (`--rereport`)."
            if report.get("rejudged")
            else ""
        ),
        "",
        f"* mutants: {c['mutants']} distinct and valid ({c['duplicates']} more dropped as duplicates of "
        f"another's code, {c['invalid']} invalid: the cell no longer compiles); {c['graded']} graded",
        f"* killed {c['killed']}, survived {c['survived']}, equivalent {c['equivalent']}"
        + (f", not graded {c['not graded']}" if c["not graded"] else ""),
        f"* **kill rate {rate:.1%}** of the {c['killed'] + c['survived']} mutants that change behaviour "
        f"(goal {report['goal']:.0%}: {'met' if rate is not None and rate >= report['goal'] else 'missed'})"
        if rate is not None
        else "* kill rate: no mutant changes behaviour",
        f"* wall time {seconds['total']:.0f} s: grading {seconds['grading']:.0f} s (one pipeline run), "
        f"oracle {seconds['oracle']:.0f} s",
        "",
        "Killed: lost points in at least one test cell. Equivalent: no input of the contract tells it "
        "from the solution (tests/mutants/probes.py, run in one process next to the solution). "
        "Survived: earns full marks although some input tells it apart; the reason names the clause "
        "of tests/contract.py it breaks and that input.",
        "",
        "| operator | mutants | graded | killed | survived | equivalent | duplicates dropped | invalid |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for operator, row in report["operators"].items():
        out.append(
            f"| {operator} | {row['generated']} | {row['graded']} | {row['killed']} | {row['survived']} | "
            f"{row['equivalent']} | {row['duplicates']} | {row['invalid']} |"
        )
    out += [
        "",
        "## Where the killed mutants lost points",
        "",
        "By the part(s) of the function each one mutates (its clauses in tests/contract.py).",
        "",
        "| part of the function | killed | lost only there | there and elsewhere | elsewhere only | elsewhere |",
        "|---|---|---|---|---|---|",
    ]
    for part, row in report["charged"].items():
        elsewhere = ", ".join(f"{p} {n}" for p, n in row["elsewhere"].items()) or "-"
        out.append(
            f"| {part} | {row['killed']} | {row['own part only']} | {row['also elsewhere']} | "
            f"{row['elsewhere only']} | {elsewhere} |"
        )
    sections = (
        ("Survivors", "survivors", "They change behaviour and still earn full marks: each needs a test."),
        (
            "Charged to the wrong part",
            "wrong_part",
            "Killed, but only in parts other than the one of the function they mutate.",
        ),
        (
            "Killed, though no probe tells them apart",
            "killed_without_difference",
            "Either a test is stricter than the contract or tests/mutants/probes.py lacks the input that shows it.",
        ),
        ("Not graded", "not_graded", "The pipeline recorded no scores for them."),
    )
    entries = {e["id"]: e for e in report["mutants"]}
    for title, key, intro in sections:
        out += ["", f"## {title} ({len(report[key])})", ""]
        if not report[key]:
            out.append("None.")
            continue
        out += [intro, "", "| id | cell, line | before | after | lost | reason |", "|---|---|---|---|---|---|"]
        for e in (entries[i] for i in report[key]):
            lost = ", ".join(e["lost_parts"]) or "nothing"
            out.append(
                f"| `{e['id']}` | {e['cell']}, {e['line']} | {_code(e['before'])} | {_code(e['after'])} | "
                f"{lost} | {_cell(e['reason'])} |"
            )
    out += ["", f"## Equivalent ({len(report['equivalent'])})", ""]
    if report["equivalent"]:
        out += ["| id | before | after | reason |", "|---|---|---|---|"]
        out += [
            f"| `{e['id']}` | {_code(e['before'])} | {_code(e['after'])} | {_cell(e['reason'])} |"
            for e in (entries[i] for i in report["equivalent"])
        ]
    else:
        out.append("None.")
    if report["stale_reviews"]:
        out += ["", "## Stale reviews", "", "These ids in tests/mutants/reviewed.py are no longer generated:", ""]
        out += [f"* `{mutant_id}`" for mutant_id in report["stale_reviews"]]
    return "\n".join(out) + "\n"
