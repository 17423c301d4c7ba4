"""Human-readable reports: :mod:`overlay.reports.plan` renders a plan as tables,
:mod:`overlay.reports.sim` a simulation's transaction-cost report, fills file and plots."""
