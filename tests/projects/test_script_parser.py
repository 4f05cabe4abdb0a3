"""Reading screenplays: Fountain and Final Draft become scenes; a broken file names its line."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from projects.storyboard.script import ScriptError, parse_script, speaker_name, storyboard_fountain

SCRIPTS = Path(__file__).resolve().parent.parent / "fixtures" / "scripts"


def read(name: str) -> bytes:
    return (SCRIPTS / name).read_bytes()


def test_it_makes_one_scene_per_scene_heading_from_fountain():
    kind, scenes = parse_script(read("harbour.fountain"))

    assert kind == "Fountain"
    assert [s.title for s in scenes] == ["INT. KITCHEN - DAY", "EXT. HARBOUR - DAWN"]
    kitchen = scenes[0].lines
    assert kitchen[0] == "Anna pours coffee. The radio mumbles the shipping forecast."
    assert "ANNA: (sleepy) Morning." in kitchen  # the parenthetical kept as direction, (V.O.) dropped
    assert scenes[0].speakers == ["ANNA", "BEN"]


def test_it_leaves_out_comments_notes_and_the_title_page():
    _, scenes = parse_script(read("harbour.fountain"))
    text = "\n".join(s.prompt for s in scenes)

    assert "gag" not in text and "Mist" not in text and "Test Writer" not in text


def test_dual_dialogue_keeps_both_speakers_in_order():
    _, scenes = parse_script(read("harbour.fountain"))

    assert scenes[0].lines[-2:] == ["ANNA: Always.", "BEN: (at the same time) Always."]


def test_splitting_per_shot_starts_a_scene_at_each_shot_and_transition():
    _, scenes = parse_script(read("harbour.fountain"), split="shot")

    assert [s.title for s in scenes] == [
        "INT. KITCHEN - DAY", "EXT. HARBOUR - DAWN – WIDE ON THE BOATS", "EXT. HARBOUR - DAWN – CLOSE ON ANNA"]
    assert scenes[2].lines == ["ANNA: We sail at noon."]


def test_a_transition_is_not_a_scene_of_its_own():
    script = b"INT. A - DAY\n\nOne.\n\nCUT TO:\n\nINT. B - DAY\n\nTwo.\n\nSMASH CUT TO:\n\nMore of B.\n"

    _, by_heading = parse_script(script)
    _, by_shot = parse_script(script, split="shot")

    assert [s.title for s in by_heading] == ["INT. A - DAY", "INT. B - DAY"]
    assert [s.title for s in by_shot] == ["INT. A - DAY", "INT. B - DAY", "INT. B - DAY (2)"]


def test_script_text_never_mentions_a_character_by_itself():
    _, scenes = parse_script(b"INT. OFFICE - DAY\n\n@Anna waves.\n\n@BEN\nMail ben@example.com.\n")

    assert "@" not in scenes[0].prompt
    assert scenes[0].speakers == ["BEN"]


def test_it_reads_final_draft_the_same_way():
    kind, scenes = parse_script(read("harbour.fdx"))

    assert kind == "Final Draft"
    assert [s.title for s in scenes] == ["INT. KITCHEN - DAY", "EXT. HARBOUR - DAWN"]
    assert scenes[0].lines == ["Anna pours coffee. The radio mumbles.", "ANNA: (sleepy) Morning.", "BEN: Coffee?",
                               "ANNA: Always.", "BEN: (at the same time) Always."]


def test_it_detects_the_format_from_the_content_not_the_name():
    # The view never passes the name: an .fdx saved as .txt is still Final Draft.
    assert parse_script(read("harbour.fdx"))[0] == "Final Draft"
    assert parse_script(read("harbour.fountain"))[0] == "Fountain"


@pytest.mark.parametrize("name, message", [
    ("unclosed_note.fountain", "Line 7: a note opened with [[ is never closed"),
    ("broken.fdx", "Line 5: the XML is malformed (mismatched tag"),
])
def test_a_malformed_file_names_the_line(name, message):
    with pytest.raises(ScriptError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_script(read(name))


def test_it_refuses_entities_and_doctypes():
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
            b"<FinalDraft><Content><Paragraph><Text>&lol;</Text></Paragraph></Content></FinalDraft>")

    with pytest.raises(ScriptError, match="Line 2: DOCTYPE and ENTITY"):
        parse_script(bomb)


def test_it_refuses_xml_that_is_not_final_draft():
    with pytest.raises(ScriptError, match="not a Final Draft script"):
        parse_script(b"<html><body>hi</body></html>")


def test_it_refuses_text_that_is_not_utf8_naming_the_line():
    with pytest.raises(ScriptError, match="Line 3: this is not UTF-8"):
        parse_script("INT. CAFE - DAY\n\nAnna sits in the café.\n".encode("latin-1"))


def test_it_reads_utf16_with_a_byte_order_mark():
    _, scenes = parse_script("INT. CAFÉ - DAY\n\nAnna sits.\n".encode("utf-16"))

    assert scenes[0].title == "INT. CAFÉ - DAY"


def test_it_refuses_binary_and_oversized_files():
    with pytest.raises(ScriptError, match="Line 2: contains a control character"):
        parse_script(b"INT. A - DAY\n\x00\x01\x02")
    with pytest.raises(ScriptError, match="the limit is 1024 KB"):
        parse_script(b"INT. A - DAY\n\n" + b"word " * 300_000)


def test_a_file_without_scenes_says_so():
    with pytest.raises(ScriptError, match="Line 1: no scenes found"):
        parse_script(b"Title: Nothing\n\n")


def test_durations_are_estimated_from_the_words_and_clamped():
    short = parse_script(b"INT. A - DAY\n\nGo.\n")[1][0]
    long = parse_script(b"INT. A - DAY\n\n" + b"word " * 200 + b"\n")[1][0]
    ten = parse_script(b"INT. A - DAY\n\n" + b"word " * 25 + b"\n")[1][0]

    assert (short.estimated_duration(), ten.estimated_duration(), long.estimated_duration()) == (1, 10, 20)


def test_speaker_names_lose_their_extensions():
    assert speaker_name("ANNA (V.O.)") == "ANNA"
    assert speaker_name("BOB (CONT'D)") == "BOB"
    assert speaker_name("@McCLANE ^") == "McCLANE"


def test_export_then_import_gives_back_the_same_scenes_and_dialogue():
    _, first = parse_script(read("harbour.fountain"))
    scenes = [SimpleNamespace(title=s.title, prompt=s.prompt) for s in first]

    _, again = parse_script(storyboard_fountain(title="Harbour Story", scenes=scenes).encode())

    assert [s.title for s in again] == [s.title for s in first]
    assert [s.lines for s in again] == [s.lines for s in first]


def test_export_keeps_hand_written_prompts_as_action():
    scenes = [SimpleNamespace(title="Dawn", prompt="Later: rain.\nA HUGE WAVE.\n@Anna waves. ANNA: hi"),
              SimpleNamespace(title="Cast", prompt="@Anna: Morning.")]

    text = storyboard_fountain(title="T", scenes=scenes)
    _, again = parse_script(text.encode())

    assert [s.title for s in again] == ["DAWN", "CAST"]
    assert again[0].speakers == [] and again[0].lines[:2] == ["Later: rain.", "A HUGE WAVE."]
    assert again[1].lines == ["ANNA: Morning."]


def test_a_monologue_longer_than_a_line_becomes_several_lines_of_one_speaker_with_every_word():
    speech = " ".join(f"Sentence number {n} of the captain's long speech about the sea." for n in range(60))
    _, [scene] = parse_script(f"INT. BRIDGE - NIGHT\n\nCAPTAIN\n{speech}\n".encode())

    assert len(scene.dialogue) == 4 and {line.speaker for line in scene.dialogue} == {"CAPTAIN"}
    assert all(len(line.text) <= 1000 and line.text.endswith("sea.") for line in scene.dialogue)
    assert " ".join(line.text for line in scene.dialogue) == speech


def test_a_paragraph_of_direction_is_kept_in_the_words_not_cut_to_a_parenthetical():
    direction = "(" + "slowly, " * 20 + "then all at once)"
    _, [scene] = parse_script(f"INT. BRIDGE - NIGHT\n\nCAPTAIN\n{direction}\nNow.\n".encode())

    [line] = scene.dialogue
    assert line.parenthetical == "" and line.text == f"{direction} Now."
