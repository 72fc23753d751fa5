using Wsctl;

return await Invocation.RunAsync(args);
