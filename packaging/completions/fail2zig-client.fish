complete -c fail2zig-client -s c -l conf -d 'Configuration: a native TOML file (its `global.socket` is used) or a fail2ban directory' -r -F
complete -c fail2zig-client -s s -l socket -d 'The control socket' -r -F
complete -c fail2zig-client -s p -l pidfile -d 'Pid file path (accepted for compatibility)' -r -F
complete -c fail2zig-client -l pname -d 'Process name of the server (accepted for compatibility)' -r
complete -c fail2zig-client -l loglevel -d 'Logging level for a started server (accepted for compatibility)' -r
complete -c fail2zig-client -l logtarget -d 'Logging target for a started server (accepted for compatibility)' -r
complete -c fail2zig-client -l syslogsocket -d 'Syslog socket for a started server (accepted for compatibility)' -r
complete -c fail2zig-client -l timeout -d 'How long to wait for the server to answer (a time expression, default 30s)' -r
complete -c fail2zig-client -l str2sec -d 'Print a time expression converted to seconds, and exit' -r
complete -c fail2zig-client -s d -d 'Dump the configuration (use `fail2zig check`)'
complete -c fail2zig-client -l dp -l dump-pretty -d 'Dump the configuration, pretty (use `fail2zig check`)'
complete -c fail2zig-client -s t -l test -d 'Test the configuration (use `fail2zig check`)'
complete -c fail2zig-client -s i -d 'Interactive mode: read commands from standard input'
complete -c fail2zig-client -s v -d 'Increase verbosity'
complete -c fail2zig-client -s q -d 'Decrease verbosity'
complete -c fail2zig-client -s x -d 'Force execution of the server (accepted for compatibility)'
complete -c fail2zig-client -s b -d 'Start the server in the background (accepted for compatibility)'
complete -c fail2zig-client -s f -d 'Start the server in the foreground (accepted for compatibility)'
complete -c fail2zig-client -l async -d 'Internal server start mode (accepted for compatibility)'
complete -c fail2zig-client -s h -l help -d 'Print the usage and exit'
complete -c fail2zig-client -s V -d 'Print the version in short form and exit'
complete -c fail2zig-client -l version -d 'Print the version and exit'
complete -c fail2zig-client -l json -d 'Print every answer as JSON instead of fail2ban\'s text'
