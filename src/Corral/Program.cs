using Corral;

return await CorralCommandLine.Build(AppRegistry.CreateCatalog()).Parse(args).InvokeAsync();
