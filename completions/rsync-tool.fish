# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rsync_tool_global_optspecs
    string join \n f/force inplace s/statistics v/verbose progress no-progress j/jobs= engine= h/help b/block-size= S/sum-size= H/hash= R/rollsum= I/input-size= O/output-size= V/version
end

function __fish_rsync_tool_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rsync_tool_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rsync_tool_using_subcommand
    set -l cmd (__fish_rsync_tool_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s j -l jobs -d 'Worker threads; outputs are the same for every N [default: cores]' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -l engine -d 'Engine for signatures and deltas: native (parallel) or librsync (the reference)' -r -f -a "native\t'rsync-tool\'s own: parallel, SIMD hashing (default)'
librsync\t'librsync 2.2, one thread: the reference the native engine is tested against'"
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s b -l block-size -d 'Block length in bytes; 0 (default) for the recommended one' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s S -l sum-size -d 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s H -l hash -d 'Strong hash' -r -f -a "blake2\t'BLAKE2b, 32 bytes (default)'
md4\t'MD4, 16 bytes (librsync before 1.0)'"
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s R -l rollsum -d 'Rolling sum' -r -f -a "rabinkarp\t'RabinKarp polynomial hash (default)'
rollsum\t'rsync\'s Adler-style rollsum'"
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s I -l input-size -d 'Input buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s O -l output-size -d 'Output buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s f -l force -d 'Overwrite an existing output file'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -l inplace -d 'Write into the existing output file instead of replacing it'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s s -l statistics -l stats -d 'Print rdiff\'s statistics lines on stderr when done'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s v -l verbose -d 'Print more detail on stderr'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -l progress -d 'Show progress at once (on a terminal)'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -l no-progress -d 'Never show progress'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s h -l help -d 'Print help (-? too)'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -s V -l version -d 'Print version'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -f -a "signature" -d 'Write the signature of BASIS to SIGNATURE'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -f -a "delta" -d 'Write the delta of NEWFILE against SIGNATURE to DELTA'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -f -a "patch" -d 'Apply DELTA to BASIS and write the result to NEWFILE'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -f -a "completions" -d 'Print a completion script for SHELL'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -f -a "man" -d 'Print a man page (roff) for rsync-tool or one of its commands'
complete -c rsync-tool -n "__fish_rsync_tool_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s j -l jobs -d 'Worker threads; outputs are the same for every N [default: cores]' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -l engine -d 'Engine for signatures and deltas: native (parallel) or librsync (the reference)' -r -f -a "native\t'rsync-tool\'s own: parallel, SIMD hashing (default)'
librsync\t'librsync 2.2, one thread: the reference the native engine is tested against'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s b -l block-size -d 'Block length in bytes; 0 (default) for the recommended one' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s S -l sum-size -d 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s H -l hash -d 'Strong hash' -r -f -a "blake2\t'BLAKE2b, 32 bytes (default)'
md4\t'MD4, 16 bytes (librsync before 1.0)'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s R -l rollsum -d 'Rolling sum' -r -f -a "rabinkarp\t'RabinKarp polynomial hash (default)'
rollsum\t'rsync\'s Adler-style rollsum'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s I -l input-size -d 'Input buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s O -l output-size -d 'Output buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s f -l force -d 'Overwrite an existing output file'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -l inplace -d 'Write into the existing output file instead of replacing it'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s s -l statistics -l stats -d 'Print rdiff\'s statistics lines on stderr when done'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s v -l verbose -d 'Print more detail on stderr'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -l progress -d 'Show progress at once (on a terminal)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -l no-progress -d 'Never show progress'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s h -l help -d 'Print help (-? too)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand signature" -s V -l version -d 'Print version'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -l sha256-file -d 'Also write NEWFILE\'s SHA-256 to PATH, as sha256sum does' -r -F
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s z -l gzip -d 'Compress the delta with gzip, at LEVEL 1-9 [default: 6]' -r
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -l zstd -d 'Compress the delta with zstd on every core, at LEVEL 1-22 [default: 3]' -r
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s b -l block-size -d 'Block length in bytes; 0 (default) for the recommended one' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s S -l sum-size -d 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s H -l hash -d 'Strong hash' -r -f -a "blake2\t'BLAKE2b, 32 bytes (default)'
md4\t'MD4, 16 bytes (librsync before 1.0)'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s R -l rollsum -d 'Rolling sum' -r -f -a "rabinkarp\t'RabinKarp polynomial hash (default)'
rollsum\t'rsync\'s Adler-style rollsum'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s j -l jobs -d 'Worker threads; outputs are the same for every N [default: cores]' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -l engine -d 'Engine for signatures and deltas: native (parallel) or librsync (the reference)' -r -f -a "native\t'rsync-tool\'s own: parallel, SIMD hashing (default)'
librsync\t'librsync 2.2, one thread: the reference the native engine is tested against'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s I -l input-size -d 'Input buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s O -l output-size -d 'Output buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -l no-trailer -d 'Write no verification trailer: exactly the delta rdiff would write'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s f -l force -d 'Overwrite an existing output file'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -l inplace -d 'Write into the existing output file instead of replacing it'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s s -l statistics -l stats -d 'Print rdiff\'s statistics lines on stderr when done'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s v -l verbose -d 'Print more detail on stderr'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -l progress -d 'Show progress at once (on a terminal)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -l no-progress -d 'Never show progress'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s h -l help -d 'Print help (-? too)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand delta" -s V -l version -d 'Print version'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -l expect-sha256 -d 'Fail (status 106) unless the result\'s SHA-256 is HEX' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s j -l jobs -d 'Worker threads; outputs are the same for every N [default: cores]' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -l engine -d 'Engine for signatures and deltas: native (parallel) or librsync (the reference)' -r -f -a "native\t'rsync-tool\'s own: parallel, SIMD hashing (default)'
librsync\t'librsync 2.2, one thread: the reference the native engine is tested against'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s b -l block-size -d 'Block length in bytes; 0 (default) for the recommended one' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s S -l sum-size -d 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s H -l hash -d 'Strong hash' -r -f -a "blake2\t'BLAKE2b, 32 bytes (default)'
md4\t'MD4, 16 bytes (librsync before 1.0)'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s R -l rollsum -d 'Rolling sum' -r -f -a "rabinkarp\t'RabinKarp polynomial hash (default)'
rollsum\t'rsync\'s Adler-style rollsum'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s I -l input-size -d 'Input buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s O -l output-size -d 'Output buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -l no-verify -d 'Do not check the result against the delta\'s trailer'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s f -l force -d 'Overwrite an existing output file'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -l inplace -d 'Write into the existing output file instead of replacing it'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s s -l statistics -l stats -d 'Print rdiff\'s statistics lines on stderr when done'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s v -l verbose -d 'Print more detail on stderr'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -l progress -d 'Show progress at once (on a terminal)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -l no-progress -d 'Never show progress'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s h -l help -d 'Print help (-? too)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand patch" -s V -l version -d 'Print version'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s j -l jobs -d 'Worker threads; outputs are the same for every N [default: cores]' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -l engine -d 'Engine for signatures and deltas: native (parallel) or librsync (the reference)' -r -f -a "native\t'rsync-tool\'s own: parallel, SIMD hashing (default)'
librsync\t'librsync 2.2, one thread: the reference the native engine is tested against'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s b -l block-size -d 'Block length in bytes; 0 (default) for the recommended one' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s S -l sum-size -d 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s H -l hash -d 'Strong hash' -r -f -a "blake2\t'BLAKE2b, 32 bytes (default)'
md4\t'MD4, 16 bytes (librsync before 1.0)'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s R -l rollsum -d 'Rolling sum' -r -f -a "rabinkarp\t'RabinKarp polynomial hash (default)'
rollsum\t'rsync\'s Adler-style rollsum'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s I -l input-size -d 'Input buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s O -l output-size -d 'Output buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s f -l force -d 'Overwrite an existing output file'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -l inplace -d 'Write into the existing output file instead of replacing it'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s s -l statistics -l stats -d 'Print rdiff\'s statistics lines on stderr when done'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s v -l verbose -d 'Print more detail on stderr'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -l progress -d 'Show progress at once (on a terminal)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -l no-progress -d 'Never show progress'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s h -l help -d 'Print help (-? too)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand completions" -s V -l version -d 'Print version'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s j -l jobs -d 'Worker threads; outputs are the same for every N [default: cores]' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -l engine -d 'Engine for signatures and deltas: native (parallel) or librsync (the reference)' -r -f -a "native\t'rsync-tool\'s own: parallel, SIMD hashing (default)'
librsync\t'librsync 2.2, one thread: the reference the native engine is tested against'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s b -l block-size -d 'Block length in bytes; 0 (default) for the recommended one' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s S -l sum-size -d 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s H -l hash -d 'Strong hash' -r -f -a "blake2\t'BLAKE2b, 32 bytes (default)'
md4\t'MD4, 16 bytes (librsync before 1.0)'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s R -l rollsum -d 'Rolling sum' -r -f -a "rabinkarp\t'RabinKarp polynomial hash (default)'
rollsum\t'rsync\'s Adler-style rollsum'"
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s I -l input-size -d 'Input buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s O -l output-size -d 'Output buffer size in bytes' -r -f
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s f -l force -d 'Overwrite an existing output file'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -l inplace -d 'Write into the existing output file instead of replacing it'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s s -l statistics -l stats -d 'Print rdiff\'s statistics lines on stderr when done'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s v -l verbose -d 'Print more detail on stderr'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -l progress -d 'Show progress at once (on a terminal)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -l no-progress -d 'Never show progress'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s h -l help -d 'Print help (-? too)'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand man" -s V -l version -d 'Print version'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand help; and not __fish_seen_subcommand_from signature delta patch completions man help" -f -a "signature" -d 'Write the signature of BASIS to SIGNATURE'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand help; and not __fish_seen_subcommand_from signature delta patch completions man help" -f -a "delta" -d 'Write the delta of NEWFILE against SIGNATURE to DELTA'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand help; and not __fish_seen_subcommand_from signature delta patch completions man help" -f -a "patch" -d 'Apply DELTA to BASIS and write the result to NEWFILE'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand help; and not __fish_seen_subcommand_from signature delta patch completions man help" -f -a "completions" -d 'Print a completion script for SHELL'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand help; and not __fish_seen_subcommand_from signature delta patch completions man help" -f -a "man" -d 'Print a man page (roff) for rsync-tool or one of its commands'
complete -c rsync-tool -n "__fish_rsync_tool_using_subcommand help; and not __fish_seen_subcommand_from signature delta patch completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
