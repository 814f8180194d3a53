namespace Acme.Plain;

/// <summary>A calculator contract from an assembly without any TypedZmq reference.</summary>
public interface IPlainCalculator
{
    /// <summary>Multiplies two numbers.</summary>
    /// <param name="a">The first factor.</param>
    /// <param name="b">The second factor.</param>
    /// <returns>The product.</returns>
    long Multiply(int a, int b);

    /// <summary>Describes a number in words.</summary>
    /// <param name="value">The number.</param>
    /// <returns>A description.</returns>
    Task<string> DescribeAsync(int value);
}
