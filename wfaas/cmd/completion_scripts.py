"""The bash, zsh and fish completion scripts of ``wfaas``, generated from
:class:`Completion` (built from the argument parser by
:mod:`wfaas.cmd.client_completion`).

Each script walks the words typed so far to find the command, the verb, the
positional index of the word being completed, or the option whose value it
is; then it offers, in this order: names or ids from the server (a "slot"
marked ``@kind``: ``wfaas completion --names kind --prefix <word>``, run with
the connection options typed on the line), an option's fixed choices, file
names (for any other positional or option value), the verbs or options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Tree = dict[str, dict[str, list[str]]]


@dataclass
class Completion:
    """What the scripts complete: commands/verbs/options, which options take a
    value, the top-level (connection) options, and the slots with known values."""

    tree: Tree
    valued: list[str]
    connection: list[str]
    slots: dict[str, str]


def _grouped(slots: dict[str, str]) -> list[tuple[list[str], str]]:
    """Slots with the same value in one case branch; ``p*`` ones after exact ones."""
    groups: dict[str, list[str]] = {}
    for key in sorted(slots, key=lambda k: (k.endswith("*"), k)):
        groups.setdefault(slots[key], []).append(key)
    branches = sorted(groups.items(), key=lambda kv: any(k.endswith("*") for k in kv[1]))
    return [(keys, value) for value, keys in branches]


def _sh_pattern(key: str) -> str:
    """A case pattern for bash and zsh: quoted, with a trailing ``*`` left as a glob."""
    return f'"{key[:-1]}"*' if key.endswith("*") else f'"{key}"'


def _verb_key(cmd: str, verb: str) -> str:
    return "/" if cmd == "" else (f"{cmd}/" if verb == "" else f"{cmd}/{verb}")


def _sh_scan(data: Completion) -> list[str]:
    """bash and zsh alike: from the words before the cursor (``$line``; the current
    one is ``$cur``, the previous one ``$prev``) set cmd, verb, the connection options
    (``$globals``) and ``$value`` (the slot's ``@kind`` or choices, "" otherwise)."""
    lines = ["    for w in \"${line[@]}\"; do",
             "        if [[ $skip == 1 ]]; then",
             '            skip=0; [[ $conn == 1 ]] && globals+=("$w"); conn=0; continue',
             "        fi",
             '        case "$w" in',
             f'            {"|".join(data.connection) or "--none--"}) skip=1; conn=1; '
             'globals+=("$w") ;;',
             f'            {"|".join(data.valued) or "--none--"}) skip=1 ;;',
             '            --insecure) globals+=("$w") ;;',
             "            -*) ;;",
             '            *) if [[ -z $cmd ]]; then cmd="$w"; '
             'elif [[ -z $verb ]]; then verb="$w"; else npos=$((npos + 1)); fi ;;',
             "        esac",
             "    done",
             '    if [[ $skip == 1 ]]; then slot="$prev"',
             '    elif [[ -n $verb && $cur != -* ]]; then slot="p$npos"; fi',
             '    case "$cmd/$verb/$slot" in']
    for keys, value in _grouped(data.slots):
        lines.append(f'        {"|".join(map(_sh_pattern, keys))}) value="{value}" ;;')
    return [*lines, "    esac"]


def _sh_verbs(data: Completion, assign: str) -> list[str]:
    """The case branch setting the verbs and options of ``$cmd/$verb`` (``assign``
    formats the words: ``found="{}"`` or ``choices=({})``)."""
    lines = ['    case "$cmd/$verb" in']
    for cmd, verbs in sorted(data.tree.items()):
        for verb, words in sorted(verbs.items()):
            lines.append(f'        "{_verb_key(cmd, verb)}") '
                         f'{assign.format(" ".join(words))} ;;')
    return [*lines, "    esac"]


LOCALS = ("    local cmd='' verb='' slot='' value='' w skip=0 conn=0 npos=0 found=''",
          "    local -a globals choices")

BASH_NAMES = (
    "_wfaas_names() {",
    '    "$1" "${@:4}" completion --names "$2" --prefix "$3" 2>/dev/null |',
    "        while IFS=$'\\t' read -r value _; do printf '%s\\n' \"$value\"; done",
    "}")
BASH_SETUP = (
    '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '    local -a line=("${COMP_WORDS[@]:1:COMP_CWORD-1}")',
    "    COMPREPLY=()")
BASH_DISPATCH = (
    "    if [[ $value == @* ]]; then",
    '        found="$(_wfaas_names "${COMP_WORDS[0]}" "${value#@}" "$cur" "${globals[@]}")"',
    '        COMPREPLY=($(compgen -W "$found" -- "$cur")); return',
    '    elif [[ -n $value ]]; then',
    '        COMPREPLY=($(compgen -W "$value" -- "$cur")); return',
    "    elif [[ -n $slot ]]; then",
    "        return      # a file name or a free value: bash's default completion",
    "    fi")
ZSH_NAMES = (
    "_wfaas_names() {",
    "    local -a lines items",
    "    local line",
    '    lines=("${(@f)$("$1" "${@[4,-1]}" completion --names "$2" --prefix "$3" 2>/dev/null)}")',
    "    for line in $lines; do",
    "        [[ -z $line ]] && continue",
    "        items+=(\"${${line%%$'\\t'*}//:/\\\\:}:${line#*$'\\t'}\")",
    "    done",
    '    (( ${#items} )) && _describe -t wfaas-names "$2" items',
    "}")
ZSH_SETUP = (
    '    local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}"',
    '    local -a line=("${(@)words[2,CURRENT-1]}")')
ZSH_DISPATCH = (
    "    if [[ $value == @* ]]; then",
    '        _wfaas_names "${words[1]}" "${value#@}" "$cur" $globals',
    "        return",
    "    elif [[ -n $value ]]; then",
    "        compadd -- ${=value}; return",
    "    elif [[ -n $slot ]]; then",
    "        _files; return",
    "    fi")


def _sh_function(data: Completion, parts: tuple[tuple[str, ...], ...], assign: str,
                 finish: tuple[str, ...]) -> list[str]:
    """``_wfaas_names`` and ``_wfaas`` from the shell's own pieces around the shared scan."""
    names, setup, dispatch = parts
    return [*names, "_wfaas() {", *LOCALS, *setup, *_sh_scan(data), *dispatch,
            *_sh_verbs(data, assign), *finish, "}"]


def bash_script(data: Completion) -> str:
    """A bash completion function for ``wfaas``."""
    body = _sh_function(data, (BASH_NAMES, BASH_SETUP, BASH_DISPATCH), 'found="{}"',
                        ('    COMPREPLY=($(compgen -W "$found" -- "$cur"))',))
    return "\n".join(["# bash completion for wfaas (generated by 'wfaas completion bash')",
                      *body, "complete -o default -F _wfaas wfaas", ""])


def zsh_script(data: Completion) -> str:
    """A zsh completion function for ``wfaas`` (native, no bashcompinit)."""
    body = _sh_function(data, (ZSH_NAMES, ZSH_SETUP, ZSH_DISPATCH), "choices=({})",
                        ("    (( ${#choices} )) && compadd -- $choices", "    _files"))
    return "\n".join(["#compdef wfaas",
                      "# zsh completion for wfaas (generated by 'wfaas completion zsh')",
                      *body,
                      'if [[ "$funcstack[1]" == "_wfaas" ]]; then _wfaas "$@"; '
                      "else compdef _wfaas wfaas; fi", ""])


def _fish_pattern(key: str) -> str:
    return "'" + key.replace("'", "\\'") + "'"


def fish_script(data: Completion) -> str:
    """A fish completion for ``wfaas`` (one function computing the candidates)."""
    connection = " ".join(data.connection) or "--none--"
    valued = " ".join(data.valued) or "--none--"
    lines = ["# fish completion for wfaas (generated by 'wfaas completion fish')",
             "function __wfaas_names",
             "    $argv[1] $argv[4..-1] completion --names $argv[2] --prefix $argv[3] "
             "2>/dev/null",
             "end",
             "function __wfaas_complete",
             "    set -l tokens (commandline -opc)",
             "    set -l cur (commandline -ct)",
             "    set -l cmd ''; set -l verb ''; set -l slot ''; set -l value ''",
             "    set -l skip 0; set -l conn 0; set -l npos 0; set -l globals",
             "    for w in $tokens[2..-1]",
             "        if test $skip = 1",
             "            set skip 0",
             "            test $conn = 1; and set -a globals $w",
             "            set conn 0",
             "            continue",
             "        end",
             "        if contains -- $w " + connection,
             "            set skip 1; set conn 1; set -a globals $w",
             "        else if contains -- $w " + valued,
             "            set skip 1",
             "        else if test \"$w\" = --insecure",
             "            set -a globals $w",
             "        else if string match -q -- '-*' $w",
             "        else if test -z \"$cmd\"",
             "            set cmd $w",
             "        else if test -z \"$verb\"",
             "            set verb $w",
             "        else",
             "            set npos (math $npos + 1)",
             "        end",
             "    end",
             "    if test $skip = 1",
             "        set slot $tokens[-1]",
             "    else if test -n \"$verb\"; and not string match -q -- '-*' \"$cur\"",
             "        set slot p$npos",
             "    end",
             '    switch "$cmd/$verb/$slot"']
    for keys, value in _grouped(data.slots):
        lines += [f"        case {' '.join(map(_fish_pattern, keys))}",
                  f"            set value {_fish_pattern(value)}"]
    lines += ["    end",
              "    if string match -q -- '@*' $value",
              "        __wfaas_names $tokens[1] (string sub -s 2 -- $value) \"$cur\" $globals",
              "        return",
              "    else if test -n \"$value\"",
              "        string split ' ' -- $value",
              "        return",
              "    else if test -n \"$slot\"",
              "        __fish_complete_path \"$cur\"",
              "        return",
              "    end",
              '    switch "$cmd/$verb"']
    for cmd, verbs in sorted(data.tree.items()):
        for verb, words in sorted(verbs.items()):
            lines += [f"        case {_fish_pattern(_verb_key(cmd, verb))}",
                      f"            string split ' ' -- {_fish_pattern(' '.join(words))}"]
    lines += ["    end",
              "end",
              "complete -c wfaas -f -a '(__wfaas_complete)'", ""]
    return "\n".join(lines)


SCRIPTS: dict[str, Callable[[Completion], str]] = {
    "bash": bash_script, "zsh": zsh_script, "fish": fish_script}
