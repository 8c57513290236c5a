<?php
// php.php — the session driver for PHP (see runtimes/README.md, "Sessions").
//
// JSON lines with xxxd on fd 3, never on stdout/stderr: {"type": "ready"}
// once, then for each {"type": "exec", "id", "code"} the cell runs with
// eval() at global scope, so variables, functions and classes persist. As
// PsySH does, the cell's last statement, when it is an expression, gives the
// value (var_export of it); the statements before it run first. The answer
// is {"type": "done", "id", "value", "error", "cpu_ms", "memory_bytes"}.
// SIGINT (xxxd's timeout) throws Interrupt inside the cell; between cells it
// is ignored. The driver's own globals all start with $__xxx_.

final class Interrupt extends \Exception {}

$__xxx_ctl = fopen('php://fd/3', 'r+');
$__xxx_running = false;
pcntl_async_signals(true);
pcntl_signal(SIGINT, function () {
    if ($GLOBALS['__xxx_running']) {
        throw new Interrupt('interrupted');
    }
});

// Splits code into [statements, last statement as an expression or null]:
// the last statement is what follows the last top-level ';' or '}' that has
// more than whitespace and comments after it (token_get_all: never inside
// strings or comments). It is an expression when it parses as one.
function __xxx_split(string $code): array
{
    $tokens = token_get_all("<?php " . $code);
    array_shift($tokens);
    $depth = 0;
    $pos = 0;
    $seps = [0];
    $filled = [false];
    foreach ($tokens as $t) {
        $text = is_array($t) ? $t[1] : $t;
        $pos += strlen($text);
        $quiet = is_array($t) && in_array($t[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true);
        if (!$quiet) {
            $filled[count($filled) - 1] = true;
        }
        if ($text === '(' || $text === '[' || $text === '{' ||
            (is_array($t) && ($t[0] === T_CURLY_OPEN || $t[0] === T_DOLLAR_OPEN_CURLY_BRACES))) {
            $depth++;
        } elseif ($text === ')' || $text === ']' || $text === '}') {
            $depth--;
        }
        if ($depth === 0 && ($text === ';' || $text === '}')) {
            $seps[] = $pos;
            $filled[] = false;
        }
    }
    for ($i = count($seps) - 1; $i >= 0 && !$filled[$i]; $i--) {
    }
    if ($i < 0) {
        return [$code, null];
    }
    $start = $seps[$i];
    $end = $seps[$i + 1] ?? strlen($code);
    $tail = rtrim(trim(substr($code, $start, $end - $start)), ';');
    if ($tail === '') {
        return [$code, null];
    }
    try {
        // Parses without running: is the last statement an expression?
        eval('if (false) { return (' . $tail . "\n); }");
    } catch (\ParseError $e) {
        return [$code, null];
    }
    return [substr($code, 0, $start), $tail];
}

function __xxx_send($ctl, array $msg): void
{
    fwrite($ctl, json_encode($msg, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE) . "\n");
    fflush($ctl);
}

__xxx_send($__xxx_ctl, ['type' => 'ready', 'pid' => getmypid()]);
while (true) {
    try {
        $__xxx_line = fgets($__xxx_ctl);
    } catch (Interrupt $e) {
        continue;
    }
    if ($__xxx_line === false) {
        break;
    }
    $__xxx_msg = json_decode($__xxx_line, true);
    if (!is_array($__xxx_msg) || ($__xxx_msg['type'] ?? '') !== 'exec') {
        continue;
    }
    $__xxx_code = (string)($__xxx_msg['code'] ?? '');
    if (str_starts_with(ltrim($__xxx_code), '<?php')) {
        $__xxx_code = substr(ltrim($__xxx_code), 5);
    }
    $__xxx_ru = getrusage();
    $__xxx_value = null;
    $__xxx_error = null;
    try {
        $__xxx_running = true;
        try {
            [$__xxx_stmts, $__xxx_expr] = __xxx_split($__xxx_code);
            if (trim($__xxx_stmts) !== '') {
                eval($__xxx_stmts . "\n;");
            }
            if ($__xxx_expr !== null) {
                $__xxx_v = eval('return (' . $__xxx_expr . "\n);");
                if ($__xxx_v !== null) {
                    $__xxx_value = var_export($__xxx_v, true);
                    if (strlen($__xxx_value) > 65536) {
                        $__xxx_value = substr($__xxx_value, 0, 65536) . '...';
                    }
                }
            }
        } finally {
            $__xxx_running = false;
        }
    } catch (\Throwable $e) {
        $__xxx_running = false;
        $__xxx_error = [
            'name' => (new \ReflectionClass($e))->getShortName(),
            'message' => $e->getMessage(),
            'traceback' => get_class($e) . ': ' . $e->getMessage() . "\n" . $e->getTraceAsString(),
        ];
    }
    $__xxx_ru2 = getrusage();
    $__xxx_cpu = ($__xxx_ru2['ru_utime.tv_sec'] - $__xxx_ru['ru_utime.tv_sec']) * 1000 +
        intdiv($__xxx_ru2['ru_utime.tv_usec'] - $__xxx_ru['ru_utime.tv_usec'], 1000) +
        ($__xxx_ru2['ru_stime.tv_sec'] - $__xxx_ru['ru_stime.tv_sec']) * 1000 +
        intdiv($__xxx_ru2['ru_stime.tv_usec'] - $__xxx_ru['ru_stime.tv_usec'], 1000);
    __xxx_send($__xxx_ctl, [
        'type' => 'done', 'id' => $__xxx_msg['id'] ?? null, 'value' => $__xxx_value,
        'error' => $__xxx_error, 'cpu_ms' => max(0, $__xxx_cpu),
        'memory_bytes' => $__xxx_ru2['ru_maxrss'] * 1024,
    ]);
}
