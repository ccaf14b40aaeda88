# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Every error the collection's engine raises, under one base class.

Modules, filters and action plugins catch ``PromfleetError`` alone; the message always says where
(job, rule index, field, host, file) and what would be right. An error may carry ``result``: what a
module returns with its failure (e.g. whether a rollback happened).

The classes that mean "this input is invalid" also derive from ``ValueError``, so plain Python
callers can treat them as such.
"""

from __future__ import annotations


class PromfleetError(Exception):
    """Base of every error of the collection; ``result`` is returned by a module with the failure."""

    def __init__(self, message: str, result: dict | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


# --- model: configurations and their semantics ------------------------------------------------------


class RegexError(PromfleetError, ValueError):
    """A regular expression that Go's regexp (RE2 syntax) refuses."""


class RelabelError(PromfleetError, ValueError):
    """A relabel rule Prometheus would refuse; the message names the rule, the field and the fix."""


class TargetError(PromfleetError, ValueError):
    """A target Prometheus would refuse after relabeling (e.g. ``no address``)."""


class ConfigError(PromfleetError, ValueError):
    """A configuration Prometheus would refuse (or the model refuses on purpose); the message
    names where (job, rule index, field) and what would be right."""


class PresetError(PromfleetError, ValueError):
    """An unknown preset, or options a preset does not take."""


class LabelSetError(PromfleetError, ValueError):
    """A label set that is not a mapping of label names to strings."""


class AlertmanagerConfigError(PromfleetError, ValueError):
    """An alertmanager.yml Alertmanager would refuse (or the model refuses on purpose); the message
    names the path (``route.routes[1]``, ``receivers[2] (name 'pager')``, ``inhibit_rules[0].equal``)
    and what would be right."""


# --- host: files, commands, the HTTP client, reloads --------------------------------------------------


class CommandError(PromfleetError):
    """An external command could not run, timed out or failed; the message has its output."""


class ConfigFileError(PromfleetError):
    """Files could not be validated or written; the message says which file and why."""


class CheckerError(ConfigFileError):
    """A checker (``promtool check config``, ...) refused the new files; the message carries its output."""


class PrometheusError(PromfleetError):
    """A server could not be reached or answered with an error; the message says which URL and why."""


class PrometheusHTTPError(PrometheusError):
    """A server answered with an HTTP error status; ``status`` and ``body`` are its answer."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ReloadError(PrometheusError):
    """A reload failed or could not be proven; ``result`` says what was tried and restored."""


class DaemonError(PromfleetError):
    """A daemon could not be installed, started or kept running as described."""


# --- kube and fleet -----------------------------------------------------------------------------------


class ManifestError(PromfleetError, ValueError):
    """Options or inputs from which no valid Kubernetes object can be rendered."""


class KubeReloadError(PromfleetError):
    """A reload in a cluster could not be done or proven."""


class TopologyError(PromfleetError, ValueError):
    """The inventory does not describe a usable federation. ``problems`` lists every finding."""

    def __init__(self, problems: list) -> None:
        super().__init__("the inventory does not describe a valid federation:\n- " + "\n- ".join(problems))
        self.problems = problems


class ReportError(PromfleetError, ValueError):
    """What a server answered cannot be read as an observation."""
