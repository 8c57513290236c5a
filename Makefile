# xxx — build, run, test.  `make run` and `make test` do their own set-up.
#
# Layout: each folder under src/ is a module; every module but the two
# programs (src/xxxd, src/cli) goes into build/libxxx.a. tests/<module>/test_*.c
# are cmocka suites; tests/<module>/progs/*.c are programs run inside boxes.

CC       ?= gcc
BUILD    ?= build
SAN      ?= 0
PKGS     := libmicrohttpd jansson libcurl libseccomp gnutls
DEPS_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPS_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lwslay -lpthread

CFLAGS   := -std=gnu17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers -g -Isrc $(DEPS_CFLAGS) \
            -fstack-protector-strong -fstack-clash-protection
LDFLAGS  := -Wl,-z,relro,-z,now
ifeq ($(SAN),1)
  BUILD  := build-san
  CFLAGS += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  CFLAGS += -O2 -D_FORTIFY_SOURCE=2
endif

MODULES  := $(filter-out xxxd cli boxinit,$(notdir $(wildcard src/*)))
LIB_SRCS := $(foreach m,$(MODULES),$(wildcard src/$(m)/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/box/init_image.o
XXXD_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(wildcard src/xxxd/*.c))
CLI_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(wildcard src/cli/*.c))
TEST_SRCS := $(wildcard tests/*/test_*.c)
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
PROG_SRCS := $(wildcard tests/*/progs/*.c)
PROGS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(PROG_SRCS))
BINS     := $(BUILD)/xxxd $(if $(CLI_OBJS),$(BUILD)/xxx)
# The playground (web/): npm ci when the lock file changes, esbuild when a source does.
WEB_SRCS := $(wildcard web/src/*) web/build.mjs web/package-lock.json
WEB      := $(BUILD)/web/index.html

.PHONY: all setup run test test-cgroup2 check unit format format-check bench clean
all: $(BINS) $(TESTS) $(PROGS) $(WEB)

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

$(WEB): $(WEB_SRCS) web/node_modules/.package-lock.json
	node web/build.mjs $(BUILD)/web

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# xxx-init (src/boxinit), every box's first process: static, libc only, never
# sanitized (no sanitizer runtime can run where it runs), linked into xxxd.
# With musl where musl-gcc is installed (scripts/setup.sh installs it): a
# static glibc spends about 0.17 ms of CPU starting up (CPU features by
# cpuid, which a VM traps; relocations; a readlink of /proc/self/exe) on
# every box, musl almost nothing. The kernel's headers (linux/, asm/) come
# from the system after musl's own.
INIT_CC  ?= $(or $(shell command -v musl-gcc 2>/dev/null),$(CC))
INIT_CFLAGS := -std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers -Isrc \
            -fstack-protector-strong -ffunction-sections -fdata-sections
ifneq ($(findstring musl,$(INIT_CC)),)
  INIT_CFLAGS += -idirafter /usr/include -idirafter /usr/include/$(shell $(CC) -print-multiarch)
else
  INIT_CFLAGS += -D_FORTIFY_SOURCE=2
endif
$(BUILD)/xxx-init: $(wildcard src/boxinit/*.c src/boxinit/*.h) src/box/box.h
	@mkdir -p $(dir $@)
	$(INIT_CC) $(INIT_CFLAGS) -static -Wl,--gc-sections -o $@ $(filter %.c,$^)

$(BUILD)/obj/box/init_image.o: src/box/init_image.S $(BUILD)/xxx-init
	@mkdir -p $(dir $@)
	$(CC) -c -DXXX_INIT_PATH='"$(BUILD)/xxx-init"' -o $@ $<

$(BUILD)/libxxx.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/xxxd: $(XXXD_OBJS) $(BUILD)/libxxx.a
	$(CC) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS)

$(BUILD)/xxx: $(CLI_OBJS) $(BUILD)/libxxx.a
	$(CC) $(LDFLAGS) -o $@ $^ $(DEPS_LIBS) -ledit

$(BUILD)/tests/%: tests/%.c $(BUILD)/libxxx.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -MMD -MP -MF $@.d $(LDFLAGS) -o $@ $< $(BUILD)/libxxx.a $(DEPS_LIBS) -lcmocka

# Programs that run inside boxes: plain, no sanitizer (the box has no ASan runtime needs).
define PROG_RULE
$(BUILD)/tests/$(1): tests/$(1).c
	@mkdir -p $$(dir $$@)
	$$(CC) -std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -pthread -o $$@ $$< -lseccomp
endef
$(foreach p,$(PROG_SRCS:tests/%.c=%),$(eval $(call PROG_RULE,$(p))))

$(BUILD)/bench/%: bench/%.c $(BUILD)/libxxx.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -MF $@.d $(LDFLAGS) -o $@ $< $(BUILD)/libxxx.a $(DEPS_LIBS)

setup:
	@bash scripts/setup.sh

# all in a second make: what setup installs (libraries, musl-gcc) is seen
# only by a make that starts after it.
run: setup
	$(MAKE) all
	./$(BUILD)/xxxd

# Unit and end-to-end suites (need root: they build real boxes). `make test`
# also runs the box suites on a pure cgroup v2 guest (test-cgroup2).
unit: all
	@bash scripts/run-tests.sh $(BUILD)

test: setup format-check
	$(MAKE) all
	bash scripts/run-tests.sh build
	$(MAKE) test-cgroup2
	$(MAKE) SAN=1 all
	bash scripts/run-tests.sh build-san

check: all
	./$(BUILD)/xxxd box check

# The box suites in a VM whose only cgroup mount is cgroup2 (needs root).
test-cgroup2: all
	bash scripts/cgroup2-vm.sh $(BUILD)

format:
	clang-format -i $(wildcard src/*/*.[ch] tests/*/*.[ch] tests/*/progs/*.c)

format-check:
	clang-format --dry-run -Werror $(wildcard src/*/*.[ch] tests/*/*.[ch] tests/*/progs/*.c)

bench: all $(BUILD)/bench/box_bench $(BUILD)/bench/service_load
	bash bench/box_bench.sh $(BUILD)
	bash bench/service_bench.sh $(BUILD)
	bash bench/session_bench.sh $(BUILD)

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj $(BUILD)/tests $(BUILD)/bench -name '*.d' 2>/dev/null)
