"""The secret patterns: one ordered list of (regex, replacement) pairs, and the trigger words.

Every rule keeps the key and the shape of what it masks (``sig=***``, ``"password": "***"``,
``-Password "***"``, ``Authorization: Bearer ***``) so evidence still reads. Patterns use the
syntax both polars (Rust ``regex``) and Python's ``re`` accept: no look-around, no
back-references; replacements are written ``$1``/``${1}`` and translated for Python.

The trigger words are a cheap, case-insensitive literal pre-check: a row without any of them
cannot match any rule (each rule needs one of the words), so the rules never see it.
"""

from __future__ import annotations

import re

MASK = "***"

#: Key names whose value is a secret in structured text (JSON/YAML/XML keys, ARM parameters,
#: settings). Case-insensitive, matched as the whole key.
SECRET_NAME = (
    r"(?:[a-z0-9_.-]*(?:password|passwd|passphrase|secret|credentials?)[a-z0-9_]*|pwd|pass|sig"
    r"|[a-z0-9_]*(?:account|storage|shared|private|access|signing|api|primary|secondary|master|client|sas)[_-]?key\d*"
    r"|key\d|[a-z0-9_]*token|connection[_-]?string|command[_-]?to[_-]?execute|protected[_-]?settings"
    r"|sharedaccesssignature)"
)
#: Narrower set for free text ``name=value`` / ``name: value`` (log lines, env vars,
#: connection strings), where a loose name would eat evidence.
KV_NAME = (
    r"(?:[a-z0-9_.-]*(?:password|passwd|passphrase|secret)|pwd|[a-z0-9_]*accountkey|account_key|sharedaccesskey"
    r"|sharedaccesssignature|[a-z0-9_]*(?:access|refresh|auth|api|sas|bearer|id|session)_?token|api_?key|token)"
)
#: Command-line option names (``--password``, ``-Password``, ``/p:`` is too short to trust).
OPT_NAME = (
    r"(?:[a-z]+-?)*(?:password|passwd|pwd|passphrase|secret|account-?key|storage-?(?:account-?)?key|sas-?token|token"
    r"|client-?secret|api-?key|accesskey)"
)
SAS_KEYS = r"(?:sig|se|st|sv|sp|spr|srt|ss|sr|skoid|sktid|skt|ske|sks|skv|sdd|sip|si)"
# A value in a JSON string: anything but the closing (possibly escaped) quote.
_JVAL = r'(?:[^"\\]|\\[^"])*'
# A value inside XML-escaped JSON (&quot;...&quot;): entities allowed, '&quot;' ends it.
_XVAL = r"(?:[^&\"<]|&amp;|&lt;|&gt;|&apos;|&#\d+;)*"
# Percent-encoded characters other than an encoded '&' (%26, or %2526 when encoded twice).
_PVAL = r"(?:[^%&\s\"'<>\\]|%(?:[013-9a-f][0-9a-f]|2[0-47-9a-f]|25(?:[013-9a-f][0-9a-f]|2[0-57-9a-f])))+"

# (regex, replacement). Order matters: PEM blocks first (they span lines), then encoded
# forms, then structured keys, then free-text forms.
RULES: list[tuple[str, str]] = [
    # PEM private keys and certificates (possibly with \n escaped inside JSON).
    (r"-----BEGIN ([A-Z0-9 ]*)-----[\s\S]*?-----END [A-Z0-9 ]*-----", r"-----BEGIN $1-----" + MASK + r"-----END $1-----"),
    # ... and one cut short (no END: a truncated file or record): everything after BEGIN.
    (r"-----BEGIN ([A-Z0-9 ]*)-----[^*][\s\S]*", r"-----BEGIN $1-----" + MASK),
    # SAS query parameters: plain, HTML-entity (&amp; &#38; &#x26; &#61;) and JSON (\u0026) forms.
    (
        r"(?i)(^|[?&\s\"']|&amp;|&#0*38;|&#x0*26;|\\u0026)(" + SAS_KEYS + r")(=|&#0*61;|&#x0*3d;|\\u003d)([^&\s\"'<>\\]+)",
        r"$1$2$3" + MASK,
    ),
    # ... percent-encoded once or twice inside another URL or JSON (%26sig%3D..., %2526sig%253D...).
    (r"(?i)(%(?:25)?(?:3f|26))(" + SAS_KEYS + r")(%(?:25)?3d)" + _PVAL, r"$1$2$3" + MASK),
    # Authorization headers (any scheme: Bearer, Basic, SharedKey, SharedAccessSignature...).
    (
        r"(?i)(\b(?:proxy-)?authorization\\?\"?\s*[:=]\s*\\?\"?[ \t]*)((?:bearer|basic|sharedkey(?:lite)?|sharedaccesssignature|negotiate|ntlm|digest|token)[ \t]+)?[^\s\"'\\*][^\r\n\"'\\]*",
        r"${1}${2}" + MASK,
    ),
    (r"(?i)\b(bearer)([ \t]+)[A-Za-z0-9._~+/-]{8,}=*", r"$1$2" + MASK),
    # JWTs (header.payload.signature, both base64url JSON) anywhere.
    (r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", MASK),
    # Passwords in URLs: scheme://user:password@host.
    (r"(?i)\b([a-z][a-z0-9+.-]{1,15}://[^:/?#@\s\"'<>]+:)[^@/?#\s\"'<>]+@", r"${1}" + MASK + "@"),
    # ARM parameters: "adminPassword": {"value": "..."} (may span lines).
    (r'(?i)(\\?"' + SECRET_NAME + r'\\?"\s*:\s*\{\s*\\?"value\\?"\s*:\s*\\?")' + _JVAL + r'(\\?")', r"${1}" + MASK + r"${2}"),
    # Secret-named JSON keys: "password": "...", \"clientSecret\": \"...\", "pin": 1234.
    (r'(?i)(\\?"' + SECRET_NAME + r'\\?"\s*:\s*\\?")' + _JVAL + r'(\\?")', r"${1}" + MASK + r"${2}"),
    (r'(?i)(\\?"' + SECRET_NAME + r'\\?"\s*:\s*)-?\d[\d.eE+-]*', r'${1}"' + MASK + '"'),
    # ... the same JSON escaped into XML text (&quot;password&quot;: &quot;...&quot;).
    (r"(?i)(&quot;" + SECRET_NAME + r"&quot;\s*:\s*&quot;)" + _XVAL, r"${1}" + MASK),
    # XML elements: <Password>...</Password>, <protectedSettings>...</protectedSettings>.
    (r"(?i)(<" + SECRET_NAME + r"(?:\s[^>]*)?>)[^<]*(</)", r"${1}" + MASK + r"${2}"),
    # YAML and "name: value" lines: the whole rest of the line is the value.
    (r"(?im)^([ \t]*-?[ \t]*[\"']?" + SECRET_NAME + r"[\"']?[ \t]*:[ \t]+)([^\s\"'*|>{\[#][^\r\n]*)", r"${1}" + MASK),
    # PowerShell: ConvertTo-SecureString "..." -AsPlainText, and "..." | ConvertTo-SecureString.
    (r"(?i)(ConvertTo-SecureString\s+(?:-String\s+)?)([\"'])[^\"'\r\n]*([\"'])", r"$1$2" + MASK + r"$3"),
    (r"(?i)(ConvertTo-SecureString\s+(?:-String\s+)?)([^\s\"'*-][^\s]*)", r"$1" + MASK),
    (r"(?i)([\"'])[^\"'\r\n]*([\"']\s*\|\s*ConvertTo-SecureString)", r"$1" + MASK + r"$2"),
    # Command-line options (process listings, CommandExecution.log, PowerShell parameters):
    # --password X, -Password "X", /password:X, --account-key=X, --sas-token X.
    (r"(?i)(\s(?:--?|/)" + OPT_NAME + r")(\s+|=|:)([\"'])[^\"'\r\n]*([\"'])", r"$1$2$3" + MASK + r"$4"),
    (r"(?i)(\s(?:--?|/)" + OPT_NAME + r")(\s+|=|:)([^\s\"'*][^\s\"']*)", r"$1$2" + MASK),
    # curl -u user:pass, sshpass -p pass, net use \\host /user:name pass.
    (r"(?i)(\bcurl\b[^\r\n]*?\s(?:-u|--user)\s*[^\s:\"']+:)([^\s\"'*][^\s\"']*)", r"$1" + MASK),
    (r"(?i)(\bsshpass\s+-p\s*)(\S+)", r"$1" + MASK),
    (r"(?i)(\bnet\s+use\b[^\r\n]*?/user:\S+\s+)([^\s/*][^\s]*)", r"$1" + MASK),
    # name=value / name: value in free text (connection strings, env vars, conf files), quoted first.
    (r"(?i)\b(" + KV_NAME + r")(\s*[=:]\s*)([\"'])[^\"'\r\n]*([\"'])", r"$1$2$3" + MASK + r"$4"),
    (r"(?i)\b(" + KV_NAME + r")(\s*[=:]\s*)([^;&\s\"'<*][^;&\s\"'<]*)", r"$1$2" + MASK),
    # Bare storage account keys (64 random bytes, base64: 86 chars + "=="). Keys may start with
    # "+" or "/", so the left edge is "not a base64 character" rather than a word boundary.
    (r"(^|[^A-Za-z0-9+/])[A-Za-z0-9+/]{86}==", r"${1}" + MASK),
]

_KEY_PREFIXES = ("account", "storage", "shared", "private", "access", "signing", "api", "primary", "secondary", "master", "client", "sas")
_KEY_WORDS = (*(p + sep + "key" for p in _KEY_PREFIXES for sep in ("", "_", "-")), *(f"key{d}" for d in range(10)))
_NAME_WORDS = (
    "pass", "pwd", "secret", "credential", 'sig"', 'sig\\"', "token", "connectionstring", "connection_string",
    "connection-string", "commandtoexecute", "command_to_execute", "command-to-execute", "protectedsettings",
    "protected_settings", "protected-settings", "sharedaccesssignature", *_KEY_WORDS,
)
_OPT_WORDS = ("pass", "pwd", "secret", "token", "accountkey", "account-key", "storagekey", "storage-key", "storageaccountkey",
              "storage-account-key", "apikey", "api-key", "accesskey")
_KV_WORDS = ("pass", "pwd", "secret", "accountkey", "account_key", "sharedaccess", "token", "apikey", "api_key")

#: For each rule of :data:`RULES` (same order), the lower-case literals of which at least one
#: must be in a text for the rule to match: a row without any of them skips that rule.
RULE_NEEDS: list[tuple[str, ...]] = [
    ("-----begin",), ("-----begin",),
    ("sig=", "se=", "sv=", "&#", "\\u003d"), ("%3d",),
    ("authorization",), ("bearer",), ("eyj",), ("@",),
    _NAME_WORDS, _NAME_WORDS, _NAME_WORDS, _NAME_WORDS, _NAME_WORDS, _NAME_WORDS,
    ("securestring",), ("securestring",), ("securestring",),
    _OPT_WORDS, _OPT_WORDS,
    ("curl",), ("sshpass",), ("/user:",),
    _KV_WORDS, _KV_WORDS,
    ("==",),
]
assert len(RULE_NEEDS) == len(RULES)

#: Every literal any rule needs, plus the base64-JSON prefixes (lower case).
TRIGGERS: list[str] = sorted({w for needs in RULE_NEEDS for w in needs} | {"eyj", "ewo", "ew0k", "eyai", "eyak"})

#: The triggers as one case-insensitive regex of escaped literals (SIMD literal search).
TRIGGER_RX = "(?i)" + "|".join(re.escape(t) for t in TRIGGERS)

#: Base64 text that decodes to a JSON object (``{"``, ``{\n``, ``{ "``): agent-stored settings.
B64_JSON_RX = r"(?:eyJ|ewo|ew0K|eyAi|eyAK)[A-Za-z0-9+/_-]{12,}={0,2}"

#: Key names whose value is a secret whatever it looks like: a search, so ``settings.password``,
#: ``settings.storageKey2``, ``settings.commandToExecute`` and ``protectedSettings`` all count.
SECRET_KEY_RX = (
    r"(?i)(pass(word|wd|phrase)?$|pwd|secret|credential|(account|storage|shared|private|access|signing|sas|api|client)_?key\d*"
    r"|(^|[._])key\d?$|sas_?token|(^|[._a-z])token$|connection_?string|command_?to_?execute|protectedsettings$|authorization)"
)


def py_replacement(r: str) -> str:
    """polars writes groups as ``$1`` / ``${1}``; Python's ``re`` as ``\\g<1>``."""
    return re.sub(r"\$\{(\d+)\}|\$(\d+)", lambda m: "\\g<" + (m.group(1) or m.group(2)) + ">", r)
