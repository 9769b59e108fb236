import { Component, type ErrorInfo, type ReactNode } from 'react';

/** A rendering bug in one screen shows a message and a way out instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('screen crashed', error, info.componentStack);
  }

  override componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  override render() {
    if (this.state.error) {
      return (
        <div className="banner bad" role="alert">
          This screen hit an unexpected error ({this.state.error.message}).{' '}
          <a href={window.location.pathname}>Reload it</a> or go back.
        </div>
      );
    }
    return this.props.children;
  }
}
