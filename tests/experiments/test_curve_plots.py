"""The validation-curve panels of reproduced tables and the regime map: rows of ``_curves.csv``
grouped into the right panel and line, in %, with the reference rules of the panel's own rows."""
from lra.experiments import curve_plots


def _curve(attention, space, run, step, val, task="listops", **labels):
    return {"task": task, "attention": attention, "space": space, "run": run, "seed": 0, "step": step,
            "val_accuracy": val, "test_accuracy": None, **labels}


def test_table_panels_group_by_task_and_attention_and_draw_each_space(tmp_path):
    curves = [_curve("transformer", "none", "a", 2, 0.30), _curve("transformer", "none", "a", 4, 0.35),
              _curve("transformer", "none", "b", 2, 0.32), _curve("transformer", "ada", "c", 2, 0.50),
              _curve("performer", "fixed", "d", 2, 0.25, wavelet="db2", level=1),
              _curve("transformer", "none", "e", 2, None)]          # an evaluation without validation
    rows = [{"task": "listops", "attention": "transformer", "space": "none", "majority": 15.0,
             "top_operator": 32.6, "top_operator_digits": 52.7},
            {"task": "listops", "attention": "performer", "space": "fixed", "top_operator": None}]
    panels = curve_plots.table_panels(rows, curves)
    assert [p.title for p in panels] == ["listops, transformer", "listops, performer"]
    transformer, performer = panels
    assert transformer.lines["none"] == {"a": [(2, 30.0), (4, 35.0)], "b": [(2, 32.0)]}
    assert transformer.lines["ada"] == {"c": [(2, 50.0)]}
    assert transformer.lines["fixed db2 1"] == {}
    assert transformer.references["top_operator"] == 32.6
    assert performer.lines["fixed db2 1"] == {"d": [(2, 25.0)]} and performer.references is None
    path = curve_plots.plot_validation_panels(panels, tmp_path / "t.png", "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_empty_panel_still_draws(tmp_path):
    panels = curve_plots.panels_from_curves([], lambda r: r["task"], lambda r: r["space"], {"listops": "listops"},
                                            ["none"])
    assert panels[0].lines == {"none": {}}
    assert curve_plots.plot_validation_panels(panels, tmp_path / "e.png", "empty").stat().st_size > 0
