using Wsctl;

return await WsctlCommand.Create().Parse(args).InvokeAsync();
