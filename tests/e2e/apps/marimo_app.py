import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import numpy as np

    import heatwidget

    return heatwidget, mo, np


@app.cell
def _(mo):
    radius = mo.ui.slider(5, 60, value=10, label="radius")
    radius
    return (radius,)


@app.cell
def _(heatwidget, np):
    rng = np.random.default_rng(3)
    lat = 48.85 + rng.normal(0, 0.5, 20_000)
    lon = 2.35 + rng.normal(0, 0.5, 20_000)
    m = heatwidget.Heatmap(lat=lat, lon=lon, height=400, center=(48.85, 2.35), zoom=6)
    return (m,)


@app.cell
def _(m, mo):
    w = mo.ui.anywidget(m)
    w
    return (w,)


@app.cell
def _(m, radius):
    m.radius = radius.value
    return


@app.cell
def _(m, mo, w):
    _sel = w.value.get("selection")
    _event = m._selecting.event()
    mo.md(f"selection-report: count={_event['count']} selected={'none' if _sel is None else 'set'}")
    return


if __name__ == "__main__":
    app.run()
