"""What drift tests return and how they are judged: the options (:class:`DriftOptions`), one
series' result (:class:`SeriesDrift`) and a window's (:class:`DriftReport`)."""

from __future__ import annotations

from dataclasses import dataclass

from prudent.errors import ConfigError

__all__ = ["DriftOptions", "DriftReport", "SeriesDrift"]


@dataclass(frozen=True)
class DriftOptions:
    """How drift is judged.

    Parameters
    ----------
    min_rows
        Windows with fewer rows are not tested ("not enough data").
    min_values
        A numeric or text series with fewer present values in the window is left out (a
        feature often missing still counts in a full window).
    fdr
        False discovery rate of the Benjamini–Hochberg step across a window's series.
    numeric_floor
        Smallest Wasserstein distance, in reference standard deviations, worth flagging.
    category_floor
        Smallest Jensen–Shannon distance worth flagging.
    """

    min_rows: int = 100
    min_values: int = 30
    fdr: float = 0.01
    numeric_floor: float = 0.1
    category_floor: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.min_rows, bool) or not isinstance(self.min_rows, int):
            raise ConfigError(f"min_rows must be an integer, but {self.min_rows!r} was received.")
        if not 2 <= self.min_values <= self.min_rows or not 0 < self.fdr < 1:
            raise ConfigError(
                "min_values must be between 2 and min_rows and fdr in (0, 1), but "
                f"min_values={self.min_values}, min_rows={self.min_rows} and fdr={self.fdr} "
                "were received."
            )


@dataclass(frozen=True)
class SeriesDrift:
    """The test of one series (a feature, the confidence or the OOD score) in one window.

    Parameters
    ----------
    name
        The series, e.g. ``"age"``, ``"note (length)"``, ``"confidence"``.
    test
        ``"KS"`` or ``"chi2"``.
    statistic
        The test statistic.
    p_value
        Its raw p-value.
    p_adjusted
        The Benjamini–Hochberg adjusted p-value.
    effect
        The effect size (see ``effect_name``).
    effect_name
        ``"W1/sd"`` or ``"JS distance"``.
    floor
        The effect needed to flag.
    drifted
        Significant after BH and at least the floor.
    n
        Window values tested.
    """

    name: str
    test: str
    statistic: float
    p_value: float
    p_adjusted: float
    effect: float
    effect_name: str
    floor: float
    drifted: bool
    n: int


@dataclass(frozen=True)
class DriftReport:
    """Every series tested in one window.

    Parameters
    ----------
    n
        Rows in the window sample.
    series
        One result per tested series.
    """

    n: int
    series: tuple[SeriesDrift, ...]

    @property
    def drifted(self) -> tuple[str, ...]:
        """The names of the flagged series."""
        return tuple(s.name for s in self.series if s.drifted)

    def get(self, name: str) -> SeriesDrift | None:
        """Return the result of one series, or None when it was not tested.

        Parameters
        ----------
        name
            The series name.

        Returns
        -------
        SeriesDrift or None
            Its result.
        """
        return next((s for s in self.series if s.name == name), None)
