namespace TypedZmq.Package.Tests;

/// <summary>The files of the consumer solution the package test builds: what a newcomer would write.</summary>
internal static class ConsumerProject
{
    public static string NuGetConfig(string feed) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <!-- The freshly packed TypedZmq, next to the sources the machine already uses for everything else. -->
            <add key="typedzmq-under-test" value="{feed}" />
          </packageSources>
        </configuration>
        """;

    public static string ContractsProject(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <TypedZmqContract>true</TypedZmqContract>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="TypedZmq" Version="{version}" />
          </ItemGroup>
        </Project>
        """;

    public const string Contracts = """
        using MemoryPack;
        using TypedZmq;

        namespace Shop.Contracts;

        [RpcService]
        public interface IGreeter
        {
            string SayHello(string greeting);
            Task<Reply> SayHelloAsync(Request request, CancellationToken cancellationToken = default);
        }

        [MemoryPackable] public sealed partial record Request(string Name, int Times);
        [MemoryPackable] public sealed partial record Reply(string[] Lines);
        """;

    public const string AppProject = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <ProjectReference Include="../Contracts/Contracts.csproj" />
          </ItemGroup>
        </Project>
        """;

    public const string Server = """
        using Shop.Contracts;
        using TypedZmq;

        using var server = new RpcServer(args[0]);
        server.AddService<IGreeter>(new Greeter());
        server.Start();
        Console.WriteLine("listening " + server.BoundEndpoint);
        Console.ReadLine(); // the test closes standard input to stop the server

        sealed class Greeter : IGreeter
        {
            public string SayHello(string greeting) => greeting == "Hello" ? "World" : "?";

            public Task<Reply> SayHelloAsync(Request request, CancellationToken cancellationToken = default) =>
                Task.FromResult(new Reply(Enumerable.Range(1, request.Times).Select(i => $"{i}:{request.Name}").ToArray()));
        }
        """;

    public const string Client = """
        using Shop.Contracts;
        using TypedZmq;

        using var client = new RpcClient(args[0]);
        IGreeter greeter = client.CreateProxy<IGreeter>();
        Console.WriteLine("reply " + greeter.SayHello("Hello"));
        Reply reply = await greeter.SayHelloAsync(new Request("pkg", 2));
        Console.WriteLine("lines " + string.Join(",", reply.Lines));
        """;

    public static string HostedProject(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <ProjectReference Include="../Contracts/Contracts.csproj" />
            <PackageReference Include="TypedZmq.Hosting" Version="{version}" />
            <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.15" />
          </ItemGroup>
        </Project>
        """;

    /// <summary>A worker-service host with the server and a client in DI, as docs/hosting.md shows.</summary>
    public const string Hosted = """
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using Microsoft.Extensions.Logging;
        using Shop.Contracts;
        using TypedZmq.Hosting;

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Logging.ClearProviders();
        const string Endpoint = "inproc://hosted-package-test";
        builder.Services.AddTypedZmqServer(o => o.Endpoint = Endpoint).AddService<IGreeter, Greeter>();
        builder.Services.AddTypedZmqClient<IGreeter>(o => o.Endpoint = Endpoint);
        using IHost host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("hosted " + host.Services.GetRequiredService<IGreeter>().SayHello("Hello"));
        await host.StopAsync();

        sealed class Greeter : IGreeter
        {
            public string SayHello(string greeting) => greeting == "Hello" ? "World" : "?";

            public Task<Reply> SayHelloAsync(Request request, CancellationToken cancellationToken = default) =>
                Task.FromResult(new Reply([request.Name]));
        }
        """;
}
