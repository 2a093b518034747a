"""Which clauses of the contract (tests/contract.py) a mutated function answers to."""

from contract import CLAUSES


def clauses_of(function):
    """The clauses about ``function`` (``Class.method``, ``function`` or an ANSWER_ name).

    A name of the contract matches itself; a function attached to a class later
    (``decode_step``) matches the method it becomes; a method the contract does not name
    (``__init__``, ``split_heads``) answers to its class's clauses.
    """
    exact = [c for c in CLAUSES if function in c.names]
    if exact:
        return exact
    attached = [c for c in CLAUSES if any(name.split(".")[-1] == function for name in c.names if "." in name)]
    if attached:
        return attached
    owner = function.split(".")[0]
    return [c for c in CLAUSES if owner in c.names] if "." in function else []


def parts_of(function):
    return {clause.part for clause in clauses_of(function)}


def clause_for(name, phrase):
    """The one clause about ``name`` whose text contains ``phrase`` (None: the only clause about it)."""
    found = [c for c in CLAUSES if name in c.names and (phrase is None or phrase in c.text)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} clauses about {name!r} contain {phrase!r} (tests/contract.py changed?)")
    return found[0]
