# The binding suites run from make check where their toolchains are present
# (BUDP_REQUIRE_BINDINGS=1: a missing toolchain fails instead; BUDP_SKIP_BINDINGS=1:
# not at all, e.g. in sanitizer builds).  Each writes under the build directory.
BINDING_SUITES = python rust swift

check-bindings: lib/libbatchudp.la
	@if [ "$${BUDP_SKIP_BINDINGS:-0}" = 1 ]; then \
	    echo "bindings: skipped (BUDP_SKIP_BINDINGS=1)"; exit 0; fi; \
	. $(abs_top_srcdir)/tools/env.sh; \
	status=0; \
	for b in $(BINDING_SUITES); do \
	    case $$b in \
	        python) tool=python3 ;; rust) tool=cargo ;; swift) tool=swift ;; \
	    esac; \
	    if ! command -v $$tool >/dev/null 2>&1; then \
	        if [ "$${BUDP_REQUIRE_BINDINGS:-0}" = 1 ]; then \
	            echo "FAIL: $$b binding: $$tool not found"; status=1; \
	        else \
	            echo "SKIP: $$b binding: $$tool not found"; \
	        fi; continue; \
	    fi; \
	    echo "== $$b binding"; \
	    if bash $(abs_top_srcdir)/bindings/$$b/run-tests.sh $(abs_top_builddir); then \
	        echo "PASS: $$b binding"; \
	    else \
	        echo "FAIL: $$b binding"; status=1; \
	    fi; \
	done; \
	exit $$status

.PHONY: check-bindings
EXTRA_DIST += bindings

# Build products of the bindings never belong in a tarball.  A build
# directory has a bindings/ of its own (the test runs' venv, target and
# .build), which automake's dist would take in place of the sources' when
# building out of tree: the sources' is copied again.
dist-hook:
	rm -rf $(distdir)/bindings
	cp -pR $(srcdir)/bindings $(distdir)/bindings
	chmod -R u+w $(distdir)/bindings
	rm -rf $(distdir)/bindings/rust/target $(distdir)/bindings/swift/.build
	rm -rf $(distdir)/bindings/python/venv $(distdir)/bindings/python/.mypy_cache
	find $(distdir)/bindings -name __pycache__ -prune -exec rm -rf {} +
