"""Registries of named choices (attentions, spaces, mixers), each owning its names, options, checks.

A choice is a linen module class registered under a name; its config options are dataclass
fields declared with :func:`option` next to the class, so defaults, validation and the
constructor's keyword arguments all derive from one declaration::

    @ATTENTIONS.register("windowed")
    class WindowedAttention(MultiHeadAttention):
        window: int = option(512, "total window width (keys with -w/2 < j - i <= w/2)", minimum=1)

gives ``config.model.attention.window = 512``, rejects ``window = 0`` with one line naming
``config.model.attention.window``, and passes ``window=cfg.attention.window`` to the class.

* ``preset``: config values (keys relative to the registry's section) that choosing the name
  sets, e.g. the official code's ``use_bias=True`` for an attention that had a bias (applied by
  ``lra.config.apply_variant``; a command-line override still wins).
* ``fixed``: constructor values the name pins (``fourier_forward`` is :class:`FourierSpace` with
  ``forward_only=True``).
* ``aliases``: other accepted names (the paper's name for an attention, e.g.).
* ``ablation``: not one of the paper's choices (identity attention, ...): left out of grids.

Option keys. A registry's options form one flat config section (``config.model.attention``), so a
key means the same option for every class that declares it: two classes may share a key only with
the same declaration (default, choices, minimum; e.g. inherited from a common base class). A class
whose field clashes with another class's key takes its own key, ``option(..., key="cosine_window")``
(the field name stays ``window``). A clash does not stop the package from importing: the new name
is not registered, a :class:`RegistrationWarning` names both classes and the fix, and choosing the
name ends in that one-line :class:`~wavspa_flax.errors.ConfigError` (:meth:`Registry.failures`
lists them; the test suite fails on any). A choice uses only its own class's options
(:meth:`Registry.options_of_choice`); ``lra.config`` rejects an override of another class's key.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from wavspa_flax.errors import ConfigError, did_you_mean

_OPTION = "wavspa_option"


@dataclasses.dataclass(frozen=True)
class Option:
    """One config option: its default, its check, and its key (the field name unless ``key``)."""

    default: Any
    doc: str = ""
    key: str | None = None
    choices: tuple | None = None
    minimum: float | None = None
    check: Callable[[Any], None] | None = None  # raises ConfigError('must be ...') for a bad value

    def validate(self, value: Any, where: str) -> None:
        """Raise :class:`ConfigError` naming ``where`` (the full config key) for a bad ``value``."""
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{where} = {value!r} is not valid{did_you_mean(value, self.choices)}; "
                              f"expected one of {self.choices}")
        if self.minimum is not None:
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not numeric or value < self.minimum or (isinstance(self.default, int) and not isinstance(value, int)):
                kind = "an integer" if isinstance(self.default, int) else "a number"
                raise ConfigError(f"{where} = {value!r} must be {kind} >= {self.minimum}")
        if self.check is not None:
            try:
                self.check(value)
            except ConfigError as error:  # a fragment: "must be even ...", "is not ..."
                raise type(error)(f"{where} = {value!r} {error}") from None


def option(default: Any, doc: str = "", *, key: str | None = None, choices=None, minimum=None, check=None):
    """A module field that is also a config option (see the module docstring)."""
    spec = Option(default, doc, key, tuple(choices) if choices is not None else None, minimum, check)
    return dataclasses.field(default=default, metadata={_OPTION: spec})


def options_of(cls: type) -> dict[str, tuple[str, Option]]:
    """``{config key: (field name, Option)}`` of a class's option fields (inherited ones too)."""
    found = {}
    for field in dataclasses.fields(cls):
        spec = field.metadata.get(_OPTION)
        if spec is not None:
            found[spec.key or field.name] = (field.name, spec)
    return found


class RegistrationWarning(UserWarning):
    """A class could not be registered (its option keys clash with another class's)."""


def _where(cls: type) -> str:
    return f"{cls.__name__} ({cls.__module__})"


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    cls: type
    fixed: Mapping[str, Any]
    preset: Mapping[str, Any]
    ablation: bool
    meta: Mapping[str, Any]


class Registry:
    """Named classes of one kind; ``section`` is their options' config section
    (``'model.attention'``) and ``choice`` the config key naming the choice (default
    ``<section>.kind``), for messages."""

    def __init__(self, section: str, choice: str | None = None):
        self.section = section
        self.choice = choice or f"{section}.kind"
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        self._options: dict[str, Option] = {}
        self._declared_by: dict[str, type] = {}  # the first class declaring each option key
        self._failures: dict[str, str] = {}  # name -> why its class could not be registered

    # -- registration ---------------------------------------------------------------------------
    def register(self, name: str, **kwargs) -> Callable[[type], type]:
        """Class decorator: ``@REGISTRY.register(name, aliases=(), fixed=None, preset=None, ...)``."""
        return lambda cls: self.add(name, cls, **kwargs)

    def add(self, name: str, cls: type | None, *, aliases=(), fixed=None, preset=None, ablation=False,
            **meta) -> type | None:
        """Register ``cls`` under ``name`` (the one-line form, e.g. a second name for a class).
        ``cls=None`` registers a name whose module is built elsewhere (the 'attention' mixer)."""
        for alias in (name, *aliases):
            if alias in self._entries or alias in self._aliases:
                raise ValueError(f"{self.section}: the name {alias!r} is already registered")
        declared = options_of(cls) if cls is not None else {}
        clash = self._clash(name, cls, declared)
        if clash is not None:
            warnings.warn(clash, RegistrationWarning, stacklevel=3)
            for alias in (name, *aliases):
                self._failures[alias] = clash
            return cls
        for key, (_, spec) in declared.items():
            self._options.setdefault(key, spec)
            self._declared_by.setdefault(key, cls)
        for key in preset or {}:
            if key not in self._options:
                raise ValueError(f"{self.section}: preset key {key!r} of {name!r} is not an option")
        self._entries[name] = Entry(name, cls, dict(fixed or {}), dict(preset or {}), ablation, meta)
        self._aliases.update({alias: name for alias in aliases})
        return cls

    def _clash(self, name: str, cls: type | None, declared: Mapping[str, tuple[str, Option]]) -> str | None:
        """The one-line reason ``cls`` cannot take its option keys (None when it can)."""
        for key, (field, spec) in declared.items():
            known = self._options.get(key)
            if known is not None and (known.default, known.choices, known.minimum) != (
                    spec.default, spec.choices, spec.minimum):
                other = self._declared_by[key]
                return (f"{self.section} {name!r}: {_where(cls)} declares option {self.section}.{key} "
                        f"(default {spec.default!r}) unlike {_where(other)} (default {known.default!r}); "
                        f"give it its own key, e.g. {field}: ... = option(..., key=\"{name}_{field}\"), "
                        "or share one declaration (a common base class)")
        return None

    def unregister(self, name: str) -> None:
        """Remove ``name``, its aliases and the options no other entry declares (tests that
        register toy classes clean up with it); also forgets a failed registration of ``name``."""
        if name in self._failures:
            self._failures = {a: why for a, why in self._failures.items() if why != self._failures[name]}
            return
        self._entries.pop(name)
        self._aliases = {a: n for a, n in self._aliases.items() if n != name}
        declared = {key for e in self._entries.values() if e.cls is not None for key in options_of(e.cls)}
        self._options = {key: spec for key, spec in self._options.items() if key in declared}
        self._declared_by = {key: cls for key, cls in self._declared_by.items() if key in declared}

    def failures(self) -> dict[str, str]:
        """``{name: reason}`` of the classes that could not be registered (see the module docstring)."""
        return dict(self._failures)

    # -- lookup ---------------------------------------------------------------------------------
    def names(self, ablations: bool = True) -> tuple[str, ...]:
        return tuple(n for n, e in self._entries.items() if ablations or not e.ablation)

    def aliases(self) -> dict[str, str]:
        return dict(self._aliases)

    def __contains__(self, name: str) -> bool:
        """Registered (or failed to register: :meth:`resolve` then says why)."""
        return name in self._entries or name in self._aliases or name in self._failures

    def resolve(self, name: str) -> str:
        """The registered name for ``name`` or one of its aliases; a :class:`ConfigError` otherwise."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        if name in self._failures:
            raise ConfigError(self._failures[name])
        known = list(self._entries) + list(self._aliases)
        raise ConfigError(f"config.{self.choice} = {name!r} is not valid"
                          f"{did_you_mean(name, known)}; expected one of {tuple(self._entries)}")

    def entry(self, name: str) -> Entry:
        return self._entries[self.resolve(name)]

    # -- config ---------------------------------------------------------------------------------
    def options(self) -> dict[str, Option]:
        return dict(self._options)

    def options_of_choice(self, name: str) -> dict[str, Option]:
        """The options the choice ``name`` uses (its class's; none for a name without a class)."""
        cls = self.entry(name).cls
        return {key: spec for key, (_, spec) in (options_of(cls) if cls is not None else {}).items()}

    def defaults(self) -> dict[str, Any]:
        """Every option's default (the keys of the config section)."""
        return {key: spec.default for key, spec in self._options.items()}

    def validate(self, name: str, section) -> None:
        """Check the choice ``name`` and every option value of the config ``section``; then the
        chosen class's ``check_options(kwargs)`` hook (checks across options), if it has one."""
        entry = self.entry(name)
        for key, spec in self._options.items():
            spec.validate(section[key], f"config.{self.section}.{key}")
        check = getattr(entry.cls, "check_options", None)
        if check is not None:
            check(self.kwargs(entry.name, section))

    def kwargs(self, name: str, section) -> dict[str, Any]:
        """Constructor keyword arguments of ``name``'s class from the config ``section``."""
        entry = self.entry(name)
        values = {field: section[key] for key, (field, _) in options_of(entry.cls).items()}
        values.update(entry.fixed)
        return values


@dataclasses.dataclass(frozen=True)
class ModuleFactory:
    """``factory(**more)`` -> ``cls(**options, **more)``. Hashable, so a module can hold it as an
    attribute and build its submodules (a space builds one attention per band)."""

    cls: type
    options: tuple = ()  # sorted (key, value) pairs

    @classmethod
    def of(cls, module_cls: type, **options) -> ModuleFactory:
        return cls(module_cls, tuple(sorted(options.items())))

    def __call__(self, **more):
        return self.cls(**dict(self.options), **more)
