# ruby.rb — the session driver for Ruby (see runtimes/README.md, "Sessions").
#
# JSON lines with xxxd on fd 3, never on stdout/stderr: {"type": "ready"}
# once, then for each {"type": "exec", "id", "code", "stdin"} the cell is
# evaluated in one persistent binding (local variables, methods, requires
# persist, as in irb), and the answer is {"type": "done", "id", "value"
# (inspect of the result, as irb shows it), "error", "cpu_ms",
# "memory_bytes"}. SIGINT (xxxd's timeout) raises Interrupt in the cell;
# between cells it is ignored.
require 'json'
require 'stringio'

$stdout.sync = true
$stderr.sync = true
VALUE_MAX = 64 * 1024
DRIVER = File.expand_path(__FILE__)

ctl = IO.new(3, 'r+')
ctl.sync = true
$xxx_running = false
trap('INT') { raise Interrupt if $xxx_running }

# The binding cells run in: main's, kept for the whole session.
session_binding = TOPLEVEL_BINDING.dup

def xxx_error_of(e)
  trace = (e.backtrace || []).reject { |l| l.start_with?(DRIVER) || l.include?("<internal:") }
  text = "#{e.class}: #{e.message}\n" + trace.map { |l| "\tfrom #{l}\n" }.join
  { name: e.class.name, message: e.message, traceback: text }
end

def xxx_rss
  File.read('/proc/self/status')[/VmHWM:\s+(\d+)/, 1].to_i * 1024
rescue StandardError
  0
end

ctl.write(JSON.generate(type: 'ready', pid: Process.pid) + "\n")
count = 0
loop do
  line = begin
    ctl.gets
  rescue Interrupt
    next
  end
  break if line.nil?
  msg = JSON.parse(line)
  next unless msg['type'] == 'exec'
  count += 1
  $stdin = StringIO.new(msg['stdin'] || '')
  cpu0 = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
  value = nil
  error = nil
  begin
    begin
      $xxx_running = true
      v = session_binding.eval(msg['code'] || '', "(cell #{count})", 1)
    ensure
      $xxx_running = false
    end
    value = v.inspect
    value = value[0, VALUE_MAX] + '...' if value.length > VALUE_MAX
  rescue Exception => e # rubocop:disable Lint/RescueException: SyntaxError, Interrupt, SystemExit too
    $xxx_running = false
    error = xxx_error_of(e)
  end
  $stdout.flush
  $stderr.flush
  cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu0
  ctl.write(JSON.generate(type: 'done', id: msg['id'], value: value, error: error,
                          cpu_ms: (cpu * 1000).to_i, memory_bytes: xxx_rss) + "\n")
end
