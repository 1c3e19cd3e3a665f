import time

from frikomport.search.spelling import best_correction, edits1, within_one


def test_edits_and_corrections():
    assert "kurs" in edits1("kur") and "kurs" in edits1("kusr")
    vocabulary = {"demensomsorg": 3, "demens": 5, "kurs": 10}
    assert within_one("demensomsrg", vocabulary) == {"demensomsorg"}
    assert best_correction("demnsomsrg", vocabulary) == "demensomsorg"  # two edits
    assert best_correction("zzzzzz", vocabulary) is None


def test_long_input_is_not_corrected_and_stays_fast():
    started = time.perf_counter()
    assert best_correction("x" * 200, {"kurs": 1}) is None
    assert within_one("y" * 200, {"kurs": 1}) == set()
    assert time.perf_counter() - started < 0.5
