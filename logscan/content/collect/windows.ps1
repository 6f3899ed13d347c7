<#
.SYNOPSIS
  logscan collect for Windows VMs: gathers what `logscan scan` reads into one zip.

.DESCRIPTION
  Read-only. Copies the guest agent's and the extensions' logs and status, exports the
  Application and System event logs, records the output of the checks the Azure Backup
  troubleshooting article tells a person to run (agent services, VSS writers, WinHTTP proxy,
  the WireServer ports, pending reboot, .NET versions) and writes a manifest of what ran,
  what failed and what could not be read. Written out by `logscan collect --windows-script`;
  the layout is in logscan/content/collect/windows-layout.md (keep the two in step).

  Run in an elevated PowerShell (5.1 or 7):
    powershell -ExecutionPolicy Bypass -File logscan-collect.ps1 -Out C:\Temp\logscan-%COMPUTERNAME%.zip

  Secrets: protectedSettings, SAS signatures and password-like settings are masked in every
  text file copied. Exported .evtx files are binary and are not masked (logscan masks them
  when it reads them).
#>
param(
  [string]$Out = (Join-Path $env:TEMP ("logscan-" + $env:COMPUTERNAME + "-" + (Get-Date -Format 'yyyyMMddTHHmmss') + ".zip")),
  [int]$MaxFileMB = 64,
  [int]$ConnectTimeoutMs = 3000,
  [string]$SystemDrive = $env:SystemDrive
)

$ErrorActionPreference = 'Continue'
$stage = Join-Path $env:TEMP ("logscan-stage-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $stage -Force | Out-Null
$manifest = [ordered]@{
  format = 1; tool = 'logscan windows.ps1 1'; platform = 'windows'; root = "$SystemDrive\"; live = $true
  host = $env:COMPUTERNAME; started = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.ffffffZ')
  commands_run = $true; commands = @(); files = @(); not_collected = @(); absent = @(); probes = [ordered]@{}
}
$maxBytes = [int64]$MaxFileMB * 1MB

# --- masking: the same secrets logscan masks at ingest -----------------------------------
$maskRules = @(
  @('(?i)("protectedSettings"\s*:\s*")[^"]*(")', '$1***$2'),
  @('(?i)(<protectedSettings>)[^<]*(</protectedSettings>)', '$1***$2'),
  @('(?i)([?&](sig|se|st|sv|sp|spr|srt|ss|sr|skoid|sktid|skt|ske|sks|skv)=)[^&\s"''<>\\]+', '$1***'),
  @('(?i)("[a-z_]*(password|secret|accountkey|storageaccountkey|sastoken|commandtoexecute)"\s*:\s*")[^"]*(")', '$1***$3'),
  @('(?i)\b(AccountKey|SharedAccessSignature|password|pwd)\s*[=:]\s*[^;&\s"'']+', '$1=***')
)
function Protect-Text([string]$s) { foreach ($r in $maskRules) { $s = $s -replace $r[0], $r[1] }; return $s }
$textExt = '.log', '.txt', '.json', '.status', '.settings', '.xml', '.config', '.ini'

function Add-File([string]$src, [string]$rel) {
  $dst = Join-Path $stage $rel
  try {
    $item = Get-Item -LiteralPath $src -Force -ErrorAction Stop
    if ($item.Attributes -band [IO.FileAttributes]::ReparsePoint) {
      $script:manifest.not_collected += @{ path = $rel; kind = 'unsafe'; reason = 'link or reparse point; not followed' }; return
    }
    New-Item -ItemType Directory -Path (Split-Path $dst) -Force | Out-Null
    $entry = [ordered]@{ path = $rel; size = $item.Length }
    $fs = [IO.File]::Open($src, 'Open', 'Read', 'ReadWrite, Delete')
    try {
      if ($item.Length -gt $maxBytes) { [void]$fs.Seek(-$maxBytes, 'End'); $entry.cut_to_last_bytes = $maxBytes }
      $ms = New-Object IO.MemoryStream; $fs.CopyTo($ms); $bytes = $ms.ToArray()
    } finally { $fs.Dispose() }
    if ($textExt -contains $item.Extension.ToLower()) {
      $text = [Text.Encoding]::UTF8.GetString($bytes); $masked = Protect-Text $text
      if ($masked -ne $text) { $bytes = [Text.Encoding]::UTF8.GetBytes($masked); $entry.masked = $true }
    }
    [IO.File]::WriteAllBytes($dst, $bytes)
    $script:manifest.files += $entry
  } catch {
    $script:manifest.not_collected += @{ path = $rel; kind = 'unreadable'; reason = $_.Exception.Message }
  }
}

function Add-Tree([string]$folder, [string]$relBase, [string[]]$include) {
  if (-not (Test-Path -LiteralPath $folder)) { $script:manifest.absent += $relBase; return }
  # Walked by hand: folder links and junctions are listed, never entered (5.1's -Recurse follows them).
  $todo = New-Object Collections.Stack; $todo.Push((Get-Item -LiteralPath $folder -Force))
  while ($todo.Count -gt 0) {
    $dir = $todo.Pop()
    foreach ($item in (Get-ChildItem -LiteralPath $dir.FullName -Force -ErrorAction SilentlyContinue)) {
      $rel = $relBase + '/' + $item.FullName.Substring($folder.Length).TrimStart('\').Replace('\', '/')
      if ($item.PSIsContainer) {
        if ($item.Attributes -band [IO.FileAttributes]::ReparsePoint) {
          $script:manifest.not_collected += @{ path = $rel; kind = 'unsafe'; reason = 'link to a folder; not followed' }
        } else { $todo.Push($item) }
      } elseif (@($include | Where-Object { $item.Name -like $_ }).Count -gt 0) { Add-File $item.FullName $rel }
    }
  }
}

function Write-Output-File([string]$rel, [string]$text) {
  $dst = Join-Path $stage $rel
  New-Item -ItemType Directory -Path (Split-Path $dst) -Force | Out-Null
  [IO.File]::WriteAllText($dst, (Protect-Text $text), (New-Object Text.UTF8Encoding($false)))
}

function Invoke-Recorded([string]$rel, [string[]]$argv, [scriptblock]$block) {
  $start = (Get-Date).ToUniversalTime(); $sw = [Diagnostics.Stopwatch]::StartNew()
  $rec = [ordered]@{ path = $rel; argv = $argv; status = 'ok'; exit_code = 0; start = $start.ToString('yyyy-MM-ddTHH:mm:ss.ffffffZ'); duration_s = 0; detail = '' }
  if ($argv.Count -gt 0 -and -not (Get-Command $argv[0] -ErrorAction SilentlyContinue)) {
    $rec.status = 'missing'; $rec.exit_code = $null; $rec.detail = "$($argv[0]): command not found"
  } else {
    try {
      $global:LASTEXITCODE = 0
      $text = (& $block 2>&1 | Out-String -Width 4096)
      $rec.exit_code = $LASTEXITCODE
      if ($LASTEXITCODE -ne 0) { $rec.status = 'failed'; $rec.detail = "exit code $LASTEXITCODE" }
      Write-Output-File $rel $text
    } catch { $rec.status = 'failed'; $rec.exit_code = $null; $rec.detail = $_.Exception.Message }
  }
  $rec.duration_s = [math]::Round($sw.Elapsed.TotalSeconds, 3)
  $script:manifest.commands += $rec
}

# --- files ------------------------------------------------------------------------------
$wa = Join-Path $SystemDrive 'WindowsAzure'
$pk = Join-Path $SystemDrive 'Packages\Plugins'
Add-Tree (Join-Path $wa 'Logs') 'WindowsAzure/Logs' @('*')
Add-Tree $pk 'Packages/Plugins' @('*.status', '*.settings', '*.log', 'HandlerEnvironment.json', 'HandlerManifest.json')

# --- event logs: wevtutil epl exports a consistent copy of a live log ---------------------
foreach ($log in 'Application', 'System') {
  $rel = "EventLogs/$log.evtx"; $dst = Join-Path $stage $rel
  New-Item -ItemType Directory -Path (Split-Path $dst) -Force | Out-Null
  Invoke-Recorded "sos_commands/eventlog/wevtutil_epl_$log" @('wevtutil', 'epl', $log, $rel) { wevtutil epl $log $dst /ow:true }
  if (Test-Path -LiteralPath $dst) { $manifest.files += [ordered]@{ path = $rel; size = (Get-Item -LiteralPath $dst).Length } }
}

# --- the article's checks ----------------------------------------------------------------
foreach ($svc in 'WindowsAzureGuestAgent', 'RdAgent') {
  Invoke-Recorded "sos_commands/services/sc_query_$svc" @('sc.exe', 'query', $svc) { sc.exe query $svc }
  Invoke-Recorded "sos_commands/services/sc_qc_$svc" @('sc.exe', 'qc', $svc) { sc.exe qc $svc }
}
Invoke-Recorded 'sos_commands/vss/vssadmin_list_writers' @('vssadmin', 'list', 'writers') { vssadmin list writers }
Invoke-Recorded 'sos_commands/networking/netsh_winhttp_show_proxy' @('netsh', 'winhttp', 'show', 'proxy') { netsh winhttp show proxy }
Invoke-Recorded 'sos_commands/networking/ipconfig_all' @('ipconfig', '/all') { ipconfig /all }

# Test-NetConnection has no timeout and pings first; a TcpClient connect with a deadline
# answers the same question ("does 168.63.129.16:<port> accept a TCP connection?") in 3 s.
foreach ($port in 80, 32526) {
  $rel = "sos_commands/logscan/connect_168.63.129.16_$port"; $head = "connect 168.63.129.16:$port"
  $start = (Get-Date).ToUniversalTime(); $sw = [Diagnostics.Stopwatch]::StartNew(); $client = New-Object Net.Sockets.TcpClient
  try {
    $task = $client.ConnectAsync('168.63.129.16', $port)
    if (-not $task.Wait($ConnectTimeoutMs)) { $line = "$head failed: timed out after $($ConnectTimeoutMs / 1000) s"; $status = 'failed' }
    else { $line = "$head ok $([int]$sw.Elapsed.TotalMilliseconds) ms"; $status = 'ok' }
  } catch {
    $inner = $_.Exception.GetBaseException()
    if ($inner -is [Net.Sockets.SocketException] -and $inner.SocketErrorCode -eq 'ConnectionRefused') { $line = "$head refused" }
    else { $line = "$head failed: $($inner.Message)" }
    $status = 'failed'
  } finally { $client.Dispose() }
  Write-Output-File $rel ($line + "`n")
  $manifest.commands += [ordered]@{ path = $rel; argv = @('connect', '168.63.129.16', "$port"); status = $status
    exit_code = $(if ($status -eq 'ok') { 0 } else { 1 }); start = $start.ToString('yyyy-MM-ddTHH:mm:ss.ffffffZ')
    duration_s = [math]::Round($sw.Elapsed.TotalSeconds, 3); detail = $(if ($status -eq 'ok') { '' } else { $line.Substring($head.Length + 1) })
    kind = 'connect'; host = '168.63.129.16'; port = $port; result = $line.Substring($head.Length + 1) }
}

# Pending reboot: the three markers Windows Update, CBS and file renames leave.
$rebootKeys = [ordered]@{
  'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending' = $null
  'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired' = $null
  'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\PendingFileRenameOperations' = 'value'
}
Invoke-Recorded 'sos_commands/registry/pending_reboot' @() {
  foreach ($k in $rebootKeys.Keys) {
    if ($rebootKeys[$k] -eq 'value') {
      $there = $null -ne (Get-ItemProperty -Path (Split-Path $k) -Name (Split-Path $k -Leaf) -ErrorAction SilentlyContinue)
    } else { $there = Test-Path -LiteralPath $k }
    "{0} {1}" -f $(if ($there) { 'present' } else { 'absent ' }), $k
  }
}
Invoke-Recorded 'sos_commands/dotnet/dotnet_versions' @() {
  Get-ChildItem 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP' -Recurse -ErrorAction SilentlyContinue |
    Get-ItemProperty -Name Version, Release -ErrorAction SilentlyContinue |
    ForEach-Object { "{0} Version={1} Release={2}" -f $_.PSPath.Split('::')[-1], $_.Version, $_.Release }
}

# --- probes and manifest -----------------------------------------------------------------
$manifest.probes.agent = [ordered]@{
  'service:WindowsAzureGuestAgent' = $null -ne (Get-Service WindowsAzureGuestAgent -ErrorAction SilentlyContinue)
  'WindowsAzure/GuestAgent*' = [bool](Get-ChildItem -LiteralPath $wa -Filter 'GuestAgent*' -Directory -ErrorAction SilentlyContinue)
}
$manifest.probes.reboot_pending = [ordered]@{}
foreach ($k in $rebootKeys.Keys) { if ($rebootKeys[$k] -ne 'value') { $manifest.probes.reboot_pending[$k] = Test-Path -LiteralPath $k } }
$manifest.finished = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.ffffffZ')
Write-Output-File 'sos_commands/logscan/manifest.json' ($manifest | ConvertTo-Json -Depth 6)

# --- zip: entry names with "/" (ZipFile, not Compress-Archive, whose 5.1 uses "\") --------
Add-Type -AssemblyName System.IO.Compression.FileSystem
if (Test-Path -LiteralPath $Out) { Remove-Item -LiteralPath $Out -Force }
[IO.Compression.ZipFile]::CreateFromDirectory($stage, $Out, 'Optimal', $false)
Remove-Item -LiteralPath $stage -Recurse -Force
Write-Host "logscan: wrote $Out ($($manifest.files.Count) files, $($manifest.not_collected.Count) not collected). Scan it with: logscan scan $Out"
