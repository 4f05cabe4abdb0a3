"""Two people editing one scene: edits merge by field; only a field both changed is a conflict."""

import pytest

from projects.storyboard import services


def _loaded(scene) -> dict:
    """What an editor form carries as its base: the values it was opened with."""
    return {name: getattr(scene, name) for name in services.SCENE_FIELDS}


@pytest.fixture
def opened_twice(scene):
    """Rita and Eddie both open the editor on the same version."""
    return scene.version, _loaded(scene)


def test_a_colleagues_change_to_another_field_survives_my_save(scene, owner, editor, opened_twice):
    version, base = opened_twice
    services.scene_update(scene=scene, expected_version=version, base=base, user=owner, title="Dawn, wide")

    services.scene_update(scene=scene, expected_version=version, base=base, user=editor,
                          **{**base, "prompt": "A harbour at dawn, gulls overhead."})

    scene.refresh_from_db()
    assert scene.title == "Dawn, wide"  # theirs, kept
    assert scene.prompt == "A harbour at dawn, gulls overhead."  # mine
    assert scene.version == version + 2


def test_a_field_both_changed_is_a_conflict_naming_it_and_nothing_is_written(scene, owner, editor, opened_twice):
    version, base = opened_twice
    services.scene_update(scene=scene, expected_version=version, base=base, user=owner, title="Dawn, wide",
                          duration=3)

    with pytest.raises(services.SceneConflict) as conflict:
        services.scene_update(scene=scene, expected_version=version, base=base, user=editor,
                              **{**base, "title": "Sunrise", "duration": 3, "camera_notes": "handheld"})

    assert conflict.value.fields == ["title"]  # both set duration to 3: no clash there
    assert conflict.value.current.title == "Dawn, wide"
    scene.refresh_from_db()
    assert (scene.title, scene.camera_notes) == ("Dawn, wide", "slow push-in")


def test_saving_again_from_the_conflict_applies_the_users_choice(scene, owner, editor, opened_twice):
    version, base = opened_twice
    services.scene_update(scene=scene, expected_version=version, base=base, user=owner, title="Dawn, wide")
    with pytest.raises(services.SceneConflict) as conflict:
        services.scene_update(scene=scene, expected_version=version, base=base, user=editor,
                              **{**base, "title": "Sunrise"})
    theirs = conflict.value.current

    # The conflict form is armed with their version as its base: saving is a deliberate choice.
    services.scene_update(scene=scene, expected_version=theirs.version, base=_loaded(theirs), user=editor,
                          **{**_loaded(theirs), "title": "Sunrise at the harbour"})
    scene.refresh_from_db()
    assert scene.title == "Sunrise at the harbour"


def test_without_a_base_any_intervening_save_is_a_conflict(scene, owner, editor):
    version = scene.version
    services.scene_update(scene=scene, expected_version=version, user=owner, title="Dawn, wide")
    with pytest.raises(services.SceneConflict) as conflict:
        services.scene_update(scene=scene, expected_version=version, user=editor, prompt="Other")
    assert conflict.value.fields == []


def test_a_save_that_changes_nothing_leaves_the_version_alone(scene, owner):
    version = scene.version
    services.scene_update(scene=scene, expected_version=version, base=_loaded(scene), user=owner, **_loaded(scene))
    scene.refresh_from_db()
    assert scene.version == version
