# %% [markdown]
# # The overlay engine from a notebook
#
# The same functions the `overlay` command calls, with a pandas DataFrame at each step:
# load a config, plan the overlay, simulate its execution, run a small impact study and
# estimate one order's cost. Cells are marked `# %%` (open it with Jupytext or VS Code);
# it also runs as a plain script:
#
#     python examples/notebook.py [OUTPUT_DIR]
#
# Units travel with every frame in `df.attrs["units"]`; quantities are signed, + buy.

# %%
import sys
import tempfile
from pathlib import Path

import pandas as pd

from overlay.config import load_config
from overlay.config.cost import estimate_cost, load_cost_spec
from overlay.plan import plan
from overlay.simulate import simulate
from overlay.studies import load_study, run_study

HERE = Path(__file__).resolve().parent
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="overlay-notebook-"))
pd.set_option("display.width", 120)

# %% [markdown]
# ## 1. Load a config and plan
# `plan` takes the loaded config or its path alike.

# %%
config = load_config(HERE / "pension_multi_asset.toml")
the_plan = plan(config)
sleeves = the_plan.sleeves_frame
orders = the_plan.orders_frame
print(sleeves[["target", "weight", "drift", "lower", "upper", "breach"]])
print(orders[["instrument", "contract", "purpose", "quantity", "notional"]])
futures = orders[orders["kind"] == "future"]
print("futures notional to trade (USD):", f"{futures['notional'].abs().sum():,.0f}")

# %% [markdown]
# ## 2. Simulate the execution
# Every futures order worked by TWAP on the simulated market in virtual time.

# %%
result = simulate(config, algo="twap", seed=7)
fills = result.fills_frame
parents = result.parents_frame
tca = result.tca_frame
print(parents[["instrument", "quantity", "filled", "avg_price", "notional", "status"]])
print(tca[["instrument", "side", "shortfall_bps", "vwap_slippage_bps", "costs_spread", "costs_impact", "costs_fees"]])
per_half_hour = fills.set_index("time").groupby("instrument", observed=True)["quantity"].resample("30min").sum()
print(per_half_hour.unstack(0).fillna(0).astype(int).head())

# %% [markdown]
# ## 3. A small market-impact study
# The square-root-law study of `examples/studies`, with 500 paths per cell instead of 40,000.

# %%
study = load_study(HERE / "studies" / "sqrt_law.toml")
from dataclasses import replace  # noqa: E402 - kept beside its one use

small = replace(study, seeds=500)
run = run_study(small, OUT / "study")
cells = run.cells_frame
print(cells[["algo", "participation", "daily_vol", "mean_bps", "std_bps", "se_bps"]])
rows = run.to_frame()
print(rows.groupby(["participation", "daily_vol"], observed=True)["shortfall_bps"].describe()[["mean", "50%", "std"]])
print("fitted law:", run.summary["fit"])

# %% [markdown]
# ## 4. One order's pre-trade cost
# 3,000 ES sold over a day under the square-root law: costs in dollars beside bps.

# %%
estimate = estimate_cost(load_cost_spec(HERE / "cost_square_root.toml"))
print(f"notional {estimate.notional:,.0f} {estimate.currency}; expected cost {estimate.expected_cost:,.0f} "
      f"{estimate.currency} ({estimate.cost_bps:.2f} bps)")
schedule = estimate_cost(load_cost_spec(HERE / "cost_almgren_chriss.toml")).schedule_frame
print(schedule)
