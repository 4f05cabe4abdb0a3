"""A scene's dialogue woven into what a take sends: where each line goes, and where it stays when the action is edited."""

from projects.storyboard.dialogue.text import (
    Spoken,
    compose,
    interleave,
    remap_after,
    split_parenthetical,
)

KITCHEN = "Anna pours coffee.\nThe radio mumbles."


def test_it_weaves_each_line_in_where_the_script_spoke_it():
    lines = [Spoken("ANNA", "Morning.", "sleepy", after_prompt_lines=1), Spoken("BEN", "Coffee?", after_prompt_lines=1),
             Spoken("Anna", "Always.", after_prompt_lines=2, cast=True)]

    assert compose(KITCHEN, lines) == (
        "Anna pours coffee.\nANNA: (sleepy) Morning.\nBEN: Coffee?\nThe radio mumbles.\n@Anna: Always.")


def test_a_line_added_in_the_panel_is_spoken_after_the_whole_prompt():
    assert compose(KITCHEN, [Spoken("BEN", "Hello?")]) == KITCHEN + "\nBEN: Hello?"
    assert compose(KITCHEN, []) == KITCHEN


def test_a_scene_of_dialogue_alone_sends_its_lines():
    assert compose("", [Spoken("ANNA", "We sail at noon.", after_prompt_lines=0)]) == "ANNA: We sail at noon."


def test_lines_stay_in_their_order_when_the_prompt_has_fewer_rows_than_their_places():
    lines = [Spoken("A", "one", after_prompt_lines=9), Spoken("B", "two", after_prompt_lines=0)]

    rows = interleave("Only row.", lines)

    assert [r if isinstance(r, str) else r.text for r in rows] == ["Only row.", "one", "two"]


def test_it_keeps_the_line_breaks_a_browser_sent():
    prompt = "Anna pours coffee.\r\nThe radio mumbles."

    assert compose(prompt, [Spoken("ANNA", "Morning.", after_prompt_lines=1)]) == (
        "Anna pours coffee.\r\nANNA: Morning.\r\nThe radio mumbles.")


def test_editing_the_action_keeps_each_line_before_the_same_words():
    old = "Anna pours coffee.\nThe radio mumbles.\nBen enters."
    # Lines before row 1 ("The radio…"), before row 2 ("Ben enters.") and after everything.
    afters = [1, 2, None]

    assert remap_after(old, "It is dawn.\n" + old, afters) == [2, 3, None]  # a row added on top
    assert remap_after(old, "Anna pours coffee.\nBen enters.", afters) == [1, 1, None]  # "The radio…" deleted
    assert remap_after(old, old.replace("Ben enters.", "Ben storms in."), afters) == [1, 2, None]  # reworded
    assert remap_after(old, "Anna pours coffee.", afters) == [1, 1, None]  # the rest deleted
    assert remap_after(old, old.replace("\n", "\r\n"), afters) == afters  # the same rows, as a browser sends them


def test_only_a_leading_parenthetical_is_split_off_and_only_when_it_reads_back_the_same():
    assert split_parenthetical("(sleepy) Morning.") == ("sleepy", "Morning.")
    assert split_parenthetical("(sleepy)") == ("", "(sleepy)")  # nothing said after it
    assert split_parenthetical("Morning. (beat) Coffee?") == ("", "Morning. (beat) Coffee?")
    assert split_parenthetical("( sleepy ) Morning.") == ("", "( sleepy ) Morning.")
    assert split_parenthetical("(sleepy)  Morning.") == ("", "(sleepy)  Morning.")
