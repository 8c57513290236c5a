# ruby.rb — the session driver for Ruby (see runtimes/README.md, "Sessions").
#
# JSON lines with xxxd on fd 3, never on stdout/stderr: {"type": "ready"}
# once, then for each {"type": "exec", "id", "code", "stdin", "stdin_live"}
# the cell is evaluated in one persistent binding (local variables, methods,
# requires persist, as in irb), and the answer is {"type": "done", "id",
# "value" (inspect of the result, as irb shows it), "error", "cpu_ms",
# "memory_bytes"}. SIGINT (xxxd's timeout) raises Interrupt in the cell;
# between cells it is ignored.
#
# A reader thread owns fd 3's input: it queues exec frames for the main
# thread, which runs the cells. A live cell's ("stdin_live") $stdin is a pipe
# the reader makes at its exec frame: "stdin" first, then the data of
# {"type": "stdin", "id"} frames, and {"type": "stdin_close"} closes it. The
# reader never blocks on the pipe: what the cell has not read yet waits in
# memory, at most STDIN_MAX bytes (xxxd sends no more per cell; past it the
# rest is dropped). When the cell ends its pipe is dropped, and frames of
# other cells are ignored.
require 'json'
require 'stringio'

$stdout.sync = true
$stderr.sync = true
VALUE_MAX = 64 * 1024
STDIN_MAX = 1 << 20
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

# One live cell's stdin pipe: the reader thread writes it, the cell reads it.
class XxxLiveStdin
  attr_reader :id, :r

  def initialize(id, first)
    @id = id
    @r, @w = IO.pipe
    @pending = ''.b
    @closing = false
    add(first)
  end

  def add(data)
    @pending << data.b.byteslice(0, [STDIN_MAX - @pending.bytesize, 0].max) unless @closing
  end

  def waiting?
    !@w.closed? && !@pending.empty?
  end

  def writer
    @w
  end

  def close
    @closing = true
  end

  def drop
    @pending = ''.b
    @closing = true
    flush
  end

  # Writes what the pipe takes now; closes it when asked and all is out.
  def flush
    until @w.closed? || @pending.empty?
      n = @w.write_nonblock(@pending, exception: false)
      return if n == :wait_writable

      @pending = @pending.byteslice(n..)
    end
  rescue Errno::EPIPE, IOError # the cell ended and closed its end
    @pending = ''.b
    @closing = true
  ensure
    @w.close if @closing && @pending.empty? && !@w.closed?
  end
end

inbox = Queue.new
reader = Thread.new do
  live = nil
  buf = ''.b
  loop do
    readable, writable = IO.select([ctl], live&.waiting? ? [live.writer] : [])
    live.flush unless writable.nil? || writable.empty?
    next if readable.nil? || readable.empty?

    chunk = ctl.read_nonblock(1 << 16, exception: false)
    next if chunk == :wait_readable
    break if chunk.nil?

    buf << chunk
    while (nl = buf.index("\n"))
      msg = JSON.parse(buf.slice!(0..nl).force_encoding('UTF-8'))
      case msg['type']
      when 'exec'
        live&.drop # the previous cell's, if it is still open
        live = nil
        if msg['stdin_live']
          live = XxxLiveStdin.new(msg['id'], msg['stdin'] || '')
          msg['stdin_io'] = live.r
        end
        inbox << msg
      when 'stdin'
        next unless live && msg['id'] == live.id

        live.add(msg.key?('data_base64') ? msg['data_base64'].unpack1('m') : msg['data'].to_s)
      when 'stdin_close'
        live.close if live && msg['id'] == live.id
      end
      live&.flush
    end
  end
ensure
  inbox << nil
end
reader.report_on_exception = false

ctl.write(JSON.generate(type: 'ready', pid: Process.pid) + "\n")
count = 0
loop do
  msg = begin
    inbox.pop
  rescue Interrupt
    next
  end
  break if msg.nil?

  count += 1
  live_in = msg['stdin_io']
  $stdin = live_in || StringIO.new(msg['stdin'] || '')
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
  live_in&.close # the reader drops the pipe's other end
  cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu0
  ctl.write(JSON.generate(type: 'done', id: msg['id'], value: value, error: error,
                          cpu_ms: (cpu * 1000).to_i, memory_bytes: xxx_rss) + "\n")
end
