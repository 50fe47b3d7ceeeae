import pytest

from certificates import codes


def test_new_code_is_16_symbols_from_crockford_alphabet_with_valid_check():
    code = codes.new_code()
    assert len(code) == 16
    assert set(code) <= set(codes.ALPHABET)
    assert codes.normalize(code) == code


def test_codes_do_not_repeat():
    assert len({codes.new_code() for _ in range(5000)}) == 5000


def test_codes_carry_at_least_60_random_bits():
    # 15 random symbols of 32 values each.
    assert codes.RANDOM_SYMBOLS * 5 >= 60


def test_display_groups_in_fours():
    assert codes.display("K7QM3XWD9PHTR2VA") == "K7QM-3XWD-9PHT-R2VA"


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: codes.display(c).lower(),
        lambda c: " ".join(codes.display(c).split("-")),
        lambda c: f"  {c}  ",
        lambda c: codes.display(c).replace("-", "\u2013"),
    ],
)
def test_normalize_accepts_how_people_type(typed):
    code = codes.new_code()
    assert codes.normalize(typed(code)) == code


def test_normalize_maps_look_alike_letters():
    code = "0" + codes.new_code()[1:]
    code = code[:-1] + codes.check_symbol(code[:-1])
    assert codes.normalize("O" + code[1:]) == code


@pytest.mark.parametrize("typed", ["", "ABC", "K7QM-3XWD-9PHT-R2VA-XX", "K7QM-3XWD-9PHT-R2V!", "<script>", "x" * 1000])
def test_normalize_rejects_malformed(typed):
    assert codes.normalize(typed) is None


def test_every_single_symbol_typo_is_caught():
    code = codes.new_code()
    for position in range(len(code)):
        for symbol in codes.ALPHABET:
            if symbol != code[position]:
                typo = code[:position] + symbol + code[position + 1 :]
                assert codes.normalize(typo) is None, typo
