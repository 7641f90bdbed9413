rule WINGTIP_CVE_2026_41333_Loader_DLL
{
    meta:
        description = "Side-loaded DLL dropped after exploitation of CVE-2026-41333 in Wingtip Remote Support"
        author = "Wingtip PSIRT"
        reference = "CVE-2026-41333"
        severity = "high"
        date = "2026-05-12"
    strings:
        $mz = { 4D 5A }
        $exp = "WtsPluginInit" ascii
        $pipe = "\\\\.\\pipe\\wtsupd-" ascii wide
        $cfg = /wtsupd-[0-9a-f]{8}\.cfg/ ascii
        $xor = { 8B 45 ?? 33 C1 [2-4] 88 04 ?? 4? 3B ?? 7C }
    condition:
        $mz at 0 and filesize < 2MB and $exp and ($pipe or $cfg) and #xor >= 2
}

rule WINGTIP_CVE_2026_41333_Staging_Script
{
    meta:
        description = "PowerShell stager used with CVE-2026-41333"
        author = "Wingtip PSIRT"
        reference = "CVE-2026-41333"
        severity = "medium"
    strings:
        $ps1 = "Invoke-WebRequest" ascii nocase
        $ps2 = "-OutFile" ascii nocase
        $url = /https?:\/\/[a-z0-9.-]+\/wts\/(upd|cfg)\.bin/ ascii nocase
        $dir = "ProgramData\\Wingtip\\Support" ascii wide nocase
    condition:
        filesize < 64KB and all of ($ps*) and $url and $dir
}
