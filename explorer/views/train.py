"""Train: a mini VGG trained live on data that ships offline (digits, shapes), its loss and accuracy
drawn as it learns, and the paper's experiments in miniature with their curves overlaid.

Jobs run in the server's training queue (``explorer.training``), one at a time: this view only
submits, polls (a fragment that reruns itself every second while the job is alive) and stops.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import vgg.train
from explorer import train_charts, training
from explorer.state import AppState
from explorer.style import show_chart
from vgg.train import EXPERIMENTS, FINISHED, JobView, Recipe

TITLE = "Train"
CONFIGS = ("A", "A-LRN", "B", "C", "D", "E")
DIVISORS = (4, 8, 16, 32)
LEARNING_RATES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
# 0: the dataset's own (not None: a selectbox whose session-state value is None shows no choice at all)
INPUT_SIZES = (0, 32, 64, 96, 128)
POLL_SECONDS = 1.0


_FORM_JOB_KEY = "train_form_job"  # the job whose recipe the form last showed


def _form_values(recipe: Recipe) -> dict[str, object]:
    """The recipe as the form's widget values, by widget key."""
    return {"train_config": recipe.config, "train_bn": recipe.batch_norm, "train_dataset": recipe.dataset,
            "train_epochs": recipe.epochs, "train_lr": recipe.lr, "train_seed": recipe.seed,
            "train_divisor": recipe.width_divisor, "train_input_size": recipe.input_size or 0}


def _fill_form(view: JobView | None) -> None:
    """The form starts from the defaults, or from the recipe of the job this tab follows when it first shows it:
    a second tab opened on ``?job=N`` (or a reload) shows what is training, not the defaults. Set before the
    widgets exist, so the widgets take no default of their own (Streamlit warns when both are given)."""
    followed = view is not None and view.recipe is not None and st.session_state.get(_FORM_JOB_KEY) != view.id
    if followed:
        st.session_state[_FORM_JOB_KEY] = view.id
        st.session_state.update(_form_values(view.recipe))
        return
    for key, value in _form_values(Recipe(seed=0)).items():
        st.session_state.setdefault(key, value)


def _recipe_form() -> Recipe | None:
    """The recipe widgets (their values in session state, see ``_fill_form``); returns a Recipe when Train was
    pressed."""
    left, middle, right = st.columns(3)
    config = left.selectbox("Configuration", CONFIGS, key="train_config")
    batch_norm = left.toggle("Batch norm", key="train_bn")
    dataset = middle.selectbox("Dataset", vgg.train.DATASETS, key="train_dataset",
                               format_func={"digits": "Handwritten digits (scikit-learn)",
                                            "shapes": "Coloured shapes (generated)"}.__getitem__)
    epochs = middle.number_input("Epochs", min_value=1, max_value=100, key="train_epochs")
    input_size = middle.selectbox("Input size", INPUT_SIZES, key="train_input_size",
                                  format_func=lambda px: "the dataset's own" if not px
                                  else f"{px} x {px} px",
                                  help="The dataset's own is 32 px for the digits and 64 px for the shapes. "
                                       "Larger inputs give the last convolution a finer grid, so Grad-CAM can point "
                                       "more precisely (the pointing game's network is trained at 96 px), and "
                                       "training takes longer: about (size / 64)² times the 64 px time.")
    lr = right.select_slider("Learning rate", LEARNING_RATES, key="train_lr",
                             help="Divided by 10 when the test accuracy stops improving for two epochs.")
    seed = right.number_input("Seed", min_value=0, max_value=2**31 - 1, key="train_seed",
                              help="Same seed, same run, bit for bit (on CPU).")
    divisor = left.selectbox("Width divisor", DIVISORS, key="train_divisor",
                             format_func=lambda k: f"/{k} (conv1 {64 // k} channels)")
    if not st.button("Train", type="primary", key="train_start", icon=":material/play_arrow:"):
        return None
    return Recipe(config, batch_norm=batch_norm, dataset=dataset, epochs=int(epochs), lr=float(lr), seed=int(seed),
                  width_divisor=int(divisor), input_size=int(input_size) or None)


def _experiment_form() -> None:
    names = list(EXPERIMENTS)
    # Two rows: five controls side by side clipped their values at 1280 px in Projector mode.
    left, seeds_column = st.columns([3, 1])
    epochs_column, lr_column, data_column = st.columns(3)
    name = left.selectbox("Experiment", names, key="experiment_name",
                          format_func=lambda key: EXPERIMENTS[key].title)
    experiment = EXPERIMENTS[name]
    seeds = seeds_column.number_input("Seeds", min_value=1, max_value=5, value=1, key="experiment_seeds",
                                      help="Each arm is trained once per seed; the table shows mean ± std.")
    epochs = epochs_column.number_input("Epochs per run", min_value=1, max_value=30, value=None,
                                        key="experiment_epochs", placeholder=f"{experiment.epochs} (its own)",
                                        help="Empty: the experiment's own number of epochs.")
    # "its own" without the experiment's value: a selectbox keeps the label it first drew for the chosen option
    # when only the format changes (seen in Chromium), so the values are in the caption below instead.
    lr = lr_column.selectbox("Learning rate", (None, *LEARNING_RATES), key="experiment_lr",
                             format_func=lambda v: "its own" if v is None else f"{v:g}",
                             help="Every arm's initial learning rate. The experiment's own is the one at which "
                                  "its arms learn where the paper's did.")
    dataset = data_column.selectbox("Dataset", (None, *vgg.train.DATASETS), key="experiment_dataset",
                                    format_func=lambda v: "its own" if v is None else v,
                                    help="Every arm's data. The experiment's own is the one on which its question "
                                         "has an answer at this size (the deeper nets need the harder shapes).")
    st.caption(f"{experiment.question} Its own recipe: {experiment.dataset}, {experiment.epochs} epochs per run, "
               f"learning rate {experiment.lr:g}.")
    if st.button("Run experiment", key="experiment_start", icon=":material/science:"):
        training.submit_experiment(name, seeds=int(seeds), epochs=None if epochs is None else int(epochs),
                                   lr=None if lr is None else float(lr), dataset=dataset)


def _use_trained(model_id: int) -> None:
    """on_click: runs before the next script run, so the sidebar's widgets can still be set."""
    st.session_state["weights"] = "trained"
    st.session_state[training.TRAINED_KEY] = model_id


def _show_job(view: JobView, projector: bool) -> None:
    status = {"queued": f"Waiting: place {view.position} in the server's queue", "running": "Training",
              "done": "Finished", "stopped": "Stopped", "failed": "Failed"}[view.status]
    st.progress(view.fraction, text=f"{view.title}: {status} · {view.message}")
    if view.error:
        st.error(view.error)
    if not view.finished and st.button("Stop", key=f"train_stop_{view.id}", icon=":material/stop:"):
        training.stop(view.id)
    if any(curve.records for curve in view.curves):
        left, right = st.columns(2)
        with left:
            show_chart(train_charts.loss_figure(view.curves), key=f"train_loss_{view.id}", projector=projector)
        with right:
            show_chart(train_charts.accuracy_figure(view.curves), key=f"train_accuracy_{view.id}",
                       projector=projector)
    if view.experiment is not None:
        _show_experiment(view.experiment)
    entry = training.model(view.model_id)
    if entry is not None:
        st.success(f"{training.sidebar_label(entry)}. Choose it under Weights in the sidebar to see its feature "
                   "maps and predictions in the Forward pass.", icon=":material/check_circle:")
        st.button("Use it in every view", key=f"train_use_{view.id}", on_click=_use_trained, args=(entry.id,))


def _show_experiment(result: vgg.train.ExperimentResult) -> None:
    rows = result.rows()
    if rows:
        frame = pd.DataFrame([{"Arm": row.arm, "Runs": row.runs,
                               "Test error": f"{row.mean_error:.2%}" + (f" ± {row.std_error:.2%}" if row.runs > 1
                                                                         else ""),
                               "Paper top-1 (ImageNet)": f"{row.paper_top1:.1f}%" if row.paper_top1 else "-",
                               "Note": row.note or "learned"}
                              for row in rows])
        st.dataframe(frame, hide_index=True, key="experiment_table")
    st.markdown(result.conclusion())
    st.caption(result.recipe_text())
    st.caption(result.caveat())


@st.fragment(run_every=POLL_SECONDS)
def _poll(job_id: int, projector: bool) -> None:
    """Redrawn every second while the job lives; when it ends, one full rerun shows the final state
    (and the sidebar offers the new model)."""
    view = training.queue().snapshot(job_id)
    if view is None:
        return
    if view.finished:
        st.rerun()
    _show_job(view, projector)


def _queue_table() -> None:
    jobs = [job for job in training.queue().jobs() if job.status not in FINISHED]
    if len(jobs) > 1 or (jobs and jobs[0].id != st.session_state.get(training.JOB_KEY)):
        st.caption("The server's queue (one job at a time):")
        st.dataframe(pd.DataFrame([{"Job": job.id, "What": job.title, "Status": job.status,
                                    "Place": job.position or "-"} for job in jobs]),
                     hide_index=True, key="train_queue")


def render(state: AppState) -> None:
    st.header("Train a mini VGG, here and now")
    st.markdown("The chosen configuration with every width divided by the divisor (D: 64-128-256-512-512 becomes "
                "8-16-32-64-64 at /8), on 32 px digits or 64 px shapes that ship with the app: the paper's "
                "recipe scaled down (SGD, momentum 0.9, weight decay, dropout, learning rate / 10 on a plateau).")
    _fill_form(training.current_job())
    recipe = _recipe_form()
    if recipe is not None:
        training.submit_training(recipe)
    with st.expander("The paper's experiments in miniature", expanded=False):
        _experiment_form()
    _queue_table()
    view = training.current_job()
    if view is None:
        st.info("Press Train: the curves appear here as the network learns.", icon=":material/monitoring:")
        return
    if view.finished:
        _show_job(view, state.projector)
    else:
        _poll(view.id, state.projector)
