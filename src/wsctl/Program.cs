using Wsctl.Cli;

return await Invocation.RunAsync(args);
