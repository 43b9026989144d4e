# Sourced by the project's scripts: toolchains installed outside the
# default PATH (rustup's cargo, the Swift toolchain under /opt).
for d in "$HOME/.cargo/bin" /opt/swift/usr/bin; do
    case ":$PATH:" in *":$d:"*) ;; *) [ -d "$d" ] && PATH="$d:$PATH" ;; esac
done
export PATH
