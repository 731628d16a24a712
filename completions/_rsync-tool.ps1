
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'rsync-tool' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'rsync-tool'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'rsync-tool' {
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'Engine for signatures and deltas: native (parallel) or librsync (the reference)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('--block-size', '--block-size', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('--sum-size', '--sum-size', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('--hash', '--hash', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('--rollsum', '--rollsum', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('--input-size', '--input-size', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('-O', '-O ', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('--output-size', '--output-size', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--inplace', '--inplace', [CompletionResultType]::ParameterName, 'Write into the existing output file instead of replacing it')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--statistics', '--statistics', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress at once (on a terminal)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('signature', 'signature', [CompletionResultType]::ParameterValue, 'Write the signature of BASIS to SIGNATURE')
            [CompletionResult]::new('delta', 'delta', [CompletionResultType]::ParameterValue, 'Write the delta of NEWFILE against SIGNATURE to DELTA')
            [CompletionResult]::new('patch', 'patch', [CompletionResultType]::ParameterValue, 'Apply DELTA to BASIS and write the result to NEWFILE')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a completion script for SHELL')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print a man page (roff) for rsync-tool or one of its commands')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rsync-tool;signature' {
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'Engine for signatures and deltas: native (parallel) or librsync (the reference)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('--block-size', '--block-size', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('--sum-size', '--sum-size', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('--hash', '--hash', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('--rollsum', '--rollsum', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('--input-size', '--input-size', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('-O', '-O ', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('--output-size', '--output-size', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--inplace', '--inplace', [CompletionResultType]::ParameterName, 'Write into the existing output file instead of replacing it')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--statistics', '--statistics', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress at once (on a terminal)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rsync-tool;delta' {
            [CompletionResult]::new('--sha256-file', '--sha256-file', [CompletionResultType]::ParameterName, 'Also write NEWFILE''s SHA-256 to PATH, as sha256sum does')
            [CompletionResult]::new('-z', '-z', [CompletionResultType]::ParameterName, 'Compress the delta with gzip, at LEVEL 1-9 [default: 6]')
            [CompletionResult]::new('--gzip', '--gzip', [CompletionResultType]::ParameterName, 'Compress the delta with gzip, at LEVEL 1-9 [default: 6]')
            [CompletionResult]::new('--zstd', '--zstd', [CompletionResultType]::ParameterName, 'Compress the delta with zstd on every core, at LEVEL 1-22 [default: 3]')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('--block-size', '--block-size', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('--sum-size', '--sum-size', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('--hash', '--hash', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('--rollsum', '--rollsum', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'Engine for signatures and deltas: native (parallel) or librsync (the reference)')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('--input-size', '--input-size', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('-O', '-O ', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('--output-size', '--output-size', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('--no-trailer', '--no-trailer', [CompletionResultType]::ParameterName, 'Write no verification trailer: exactly the delta rdiff would write')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--inplace', '--inplace', [CompletionResultType]::ParameterName, 'Write into the existing output file instead of replacing it')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--statistics', '--statistics', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress at once (on a terminal)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rsync-tool;patch' {
            [CompletionResult]::new('--expect-sha256', '--expect-sha256', [CompletionResultType]::ParameterName, 'Fail (status 106) unless the result''s SHA-256 is HEX')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'Engine for signatures and deltas: native (parallel) or librsync (the reference)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('--block-size', '--block-size', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('--sum-size', '--sum-size', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('--hash', '--hash', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('--rollsum', '--rollsum', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('--input-size', '--input-size', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('-O', '-O ', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('--output-size', '--output-size', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('--no-verify', '--no-verify', [CompletionResultType]::ParameterName, 'Do not check the result against the delta''s trailer')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--inplace', '--inplace', [CompletionResultType]::ParameterName, 'Write into the existing output file instead of replacing it')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--statistics', '--statistics', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress at once (on a terminal)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rsync-tool;completions' {
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'Engine for signatures and deltas: native (parallel) or librsync (the reference)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('--block-size', '--block-size', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('--sum-size', '--sum-size', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('--hash', '--hash', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('--rollsum', '--rollsum', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('--input-size', '--input-size', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('-O', '-O ', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('--output-size', '--output-size', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--inplace', '--inplace', [CompletionResultType]::ParameterName, 'Write into the existing output file instead of replacing it')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--statistics', '--statistics', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress at once (on a terminal)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rsync-tool;man' {
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads; outputs are the same for every N [default: cores]')
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'Engine for signatures and deltas: native (parallel) or librsync (the reference)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('--block-size', '--block-size', [CompletionResultType]::ParameterName, 'Block length in bytes; 0 (default) for the recommended one')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('--sum-size', '--sum-size', [CompletionResultType]::ParameterName, 'Strong sum length; 0 (default) for the whole hash, -1 for the minimum')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('--hash', '--hash', [CompletionResultType]::ParameterName, 'Strong hash')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('--rollsum', '--rollsum', [CompletionResultType]::ParameterName, 'Rolling sum')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('--input-size', '--input-size', [CompletionResultType]::ParameterName, 'Input buffer size in bytes')
            [CompletionResult]::new('-O', '-O ', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('--output-size', '--output-size', [CompletionResultType]::ParameterName, 'Output buffer size in bytes')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing output file')
            [CompletionResult]::new('--inplace', '--inplace', [CompletionResultType]::ParameterName, 'Write into the existing output file instead of replacing it')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--statistics', '--statistics', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print rdiff''s statistics lines on stderr when done')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail on stderr')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress at once (on a terminal)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never show progress')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-? too)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'rsync-tool;help' {
            [CompletionResult]::new('signature', 'signature', [CompletionResultType]::ParameterValue, 'Write the signature of BASIS to SIGNATURE')
            [CompletionResult]::new('delta', 'delta', [CompletionResultType]::ParameterValue, 'Write the delta of NEWFILE against SIGNATURE to DELTA')
            [CompletionResult]::new('patch', 'patch', [CompletionResultType]::ParameterValue, 'Apply DELTA to BASIS and write the result to NEWFILE')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a completion script for SHELL')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print a man page (roff) for rsync-tool or one of its commands')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rsync-tool;help;signature' {
            break
        }
        'rsync-tool;help;delta' {
            break
        }
        'rsync-tool;help;patch' {
            break
        }
        'rsync-tool;help;completions' {
            break
        }
        'rsync-tool;help;man' {
            break
        }
        'rsync-tool;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
