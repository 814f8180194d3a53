using TypedZmq;

// Usage: dotnet run --project samples/KeyTool -- NAME [DIRECTORY]
// Writes DIRECTORY/NAME.key (the public certificate: give it to the peers that should trust this key) and
// DIRECTORY/NAME.key_secret (the secret certificate, readable only by its owner: keep it where only this side can read
// it). Both use ZeroMQ's certificate format, so ZeroMQ's own tools can read them too.
if (args.Length is < 1 or > 2 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("Usage: dotnet run --project samples/KeyTool -- NAME [DIRECTORY]");
    return 2;
}

string name = args[0];
string directory = args.Length > 1 ? args[1] : ".";
Directory.CreateDirectory(directory);
string publicPath = Path.Combine(directory, name + ".key");
string secretPath = Path.Combine(directory, name + ".key_secret");
if (File.Exists(secretPath))
{
    Console.Error.WriteLine($"{secretPath} exists already; remove it first if you mean to replace the key.");
    return 1;
}

RpcKeyPair pair = RpcKeyPair.Generate();
pair.Save(secretPath, name);
pair.PublicKey.Save(publicPath, name);
Console.WriteLine($"{name}: public key {pair.PublicKey}");
Console.WriteLine($"  {publicPath}        public certificate: share it");
Console.WriteLine($"  {secretPath} secret certificate: keep it private");
return 0;
